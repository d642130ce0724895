/*
 * invitation_batch: many invitations in one request and one transaction.
 *
 * Words: an item is one {email, role, membership_expires_at?} of the body;
 * its result is {email, invitation} or {email, error: {code, message,
 * field?}} at the same index of the reply.  The worker checks each item's
 * fields (the same validators as a single invitation) and makes its token;
 * finicom.invitation_create_batch (sql/0024) tries each checked item in a
 * subtransaction of its own, so a refused one (already_member,
 * invitation_pending, a past membership_expires_at, a mail limit) leaves
 * nothing behind while the others stand, each with its mail and its audit
 * event.  As for one invitation, tokens live only in the mails.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "handlers/handlers.h"
#include "util/crypto.h"
#include "validate.h"

#define BATCH_MAX 100

/* items: an array of 1 to 100 objects (their fields are checked one by one). */
static bool
valid_batch_items(json_object *v, const char **why)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		*why = "must be an array";
		return false;
	}
	n = json_object_array_length(v);
	if (n < 1 || n > BATCH_MAX) {
		*why = "must hold 1 to 100 items";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_object)) {
			*why = "must hold only objects {email, role, membership_expires_at?}";
			return false;
		}
	return true;
}

static const struct field batch_fields[] = {
	{"items", valid_batch_items, true}, /* BATCH_ITEMS */
};
const struct fieldset invite_batch_body = FIELDSET(batch_fields);

static const struct field item_fields[] = {
	{"email", valid_email, true},                  /* ITEM_EMAIL */
	{"role", valid_role, true},                    /* ITEM_ROLE */
	{"membership_expires_at", valid_time, false},  /* ITEM_EXPIRES */
};

/*
 * Check one item; on success returns NULL with out[] set, else its error
 * object {code, message, field} (the caller owns it).
 */
static json_object *
item_check(json_object *item, json_object *out[3])
{
	struct http_response scratch;
	json_object *err = NULL;

	http_response_init(&scratch);
	if (validate_body(item, item_fields, 3, out, &scratch) == 0)
		return NULL;
	if (scratch.body != NULL && json_object_object_get_ex(scratch.body, "error", &err))
		json_object_get(err);
	json_object_put(scratch.body);
	return err;
}

/* The email of item i for the reply (its canonical form once checked, else as sent). */
static const char *
item_email(json_object *item)
{
	json_object *v;

	if (json_object_object_get_ex(item, "email", &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/*
 * POST /api/v1/orgs/{org}/invitations/batch {items: [{email, role,
 * membership_expires_at?}, ...]} (admin)
 * 200 {items: [{email, invitation} | {email, error}]} in the order given;
 * 400 validation_failed (field "items") for no items, more than 100, an
 * item that is not an object, or the same email twice; 403
 * email_unverified (as for one invitation).
 */
void
invitation_batch(struct request_ctx *ctx)
{
	json_object *items = ctx->fields[0], *sent = json_object_new_array(), *out[3], *err, *entry;
	size_t n = json_object_array_length(items), text_len;
	char token[TOKEN_CHARS + 1], hash[2 + 64 + 1], message[160];
	const char *params[3], *link, *emails[BATCH_MAX], *text;
	char *copy = NULL;
	PGresult *r;

	for (size_t i = 0; i < n && sent != NULL; i++) {
		json_object *item = json_object_array_get_idx(items, i);

		entry = json_object_new_object();
		err = item_check(item, out);
		emails[i] = err == NULL ? json_object_get_string(out[0]) : NULL;
		for (size_t j = 0; emails[i] != NULL && j < i; j++)
			if (emails[j] != NULL && strcasecmp(emails[i], emails[j]) == 0) {
				snprintf(message, sizeof(message), "items[%zu] has the same email as items[%zu]", i, j);
				http_error(ctx->res, 400, "validation_failed", message, "items");
				json_object_put(entry);
				json_object_put(sent);
				return;
			}
		if (item_email(item) != NULL)
			json_object_object_add(entry, "email", json_object_new_string(item_email(item)));
		else
			json_object_object_add(entry, "email", NULL);
		if (err != NULL) {
			json_object_object_add(entry, "error", err);
		} else {
			if (token_generate(token) < 0) {
				json_object_put(entry);
				json_object_put(sent);
				http_error(ctx->res, 500, "internal", "internal error", NULL);
				return;
			}
			sha256_bytea(token, hash);
			link = arena_printf(ctx->arena, "%s/invite/%s", ctx->cfg->public_url, token);
			OPENSSL_cleanse(token, sizeof(token));
			json_object_object_add(entry, "role", json_object_get(out[1]));
			if (out[2] != NULL)
				json_object_object_add(entry, "membership_expires_at", json_object_get(out[2]));
			json_object_object_add(entry, "token_hash", json_object_new_string(hash));
			json_object_object_add(entry, "link", link ? json_object_new_string(link) : NULL);
		}
		json_object_array_add(sent, entry);
	}
	/* strcasecmp: the emails are canonical and ASCII (IDN domains as A-labels). */
	text = sent ? json_object_to_json_string_length(sent, JSON_C_TO_STRING_PLAIN, &text_len) : NULL;
	copy = text ? arena_strndup(ctx->arena, text, text_len) : NULL;
	json_object_put(sent);
	if (copy == NULL) {
		http_error(ctx->res, 500, "internal", "internal error", NULL);
		return;
	}
	params[0] = ctx->org_id;
	params[1] = copy;
	params[2] = email_verified_required(ctx);
	r = tx_exec(ctx,
	    "SELECT finicom.invitation_create_batch($1, $2::json) FROM finicom.require_email_verified($3)",
	    3, params, true);
	OPENSSL_cleanse(copy, text_len);
	if (r == NULL)
		return;
	text = arena_printf(ctx->arena, "{\"items\":%s}", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (text == NULL)
		http_error(ctx->res, 500, "internal", "internal error", NULL);
	else
		respond_json_text(ctx, 200, text);
}
