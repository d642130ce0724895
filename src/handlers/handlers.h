/*
 * handlers: every route handler, one file per resource.  Each handler's
 * comment lists its HTTP outcomes.
 */
#ifndef FINICOM_HANDLERS_H
#define FINICOM_HANDLERS_H

#include "context.h"

/* meta.c */
void health_get(struct request_ctx *ctx);
void openapi_get(struct request_ctx *ctx);

/* observe.c: /metrics, /livez, /readyz */
void metrics_get(struct request_ctx *ctx);
void livez_get(struct request_ctx *ctx);
void readyz_get(struct request_ctx *ctx);

/* auth.c */
void auth_signup(struct request_ctx *ctx);
void auth_login(struct request_ctx *ctx);
void auth_logout(struct request_ctx *ctx);
void auth_me(struct request_ctx *ctx);
extern const struct fieldset login_body;
void auth_verify(struct request_ctx *ctx);
void auth_verify_resend(struct request_ctx *ctx);
/* Reply status {user, csrf_token} and the cookie of the new session token. */
void respond_session(struct request_ctx *ctx, int status, const char *user_json, const char *token);
/* 200 {totp_required: true, login_token}, no session (auth.c): the second step is POST /auth/login/totp. */
void respond_totp_required(struct request_ctx *ctx, const char *login_token);

/* account.c */
void password_reset_request(struct request_ctx *ctx);
void password_reset_preview(struct request_ctx *ctx);
void password_reset_complete(struct request_ctx *ctx);
void me_password(struct request_ctx *ctx);
void me_patch(struct request_ctx *ctx);
void my_sessions_list(struct request_ctx *ctx);
void my_session_delete(struct request_ctx *ctx);
void my_sessions_delete_others(struct request_ctx *ctx);
extern const struct fieldset password_reset_request_body, password_reset_body, me_password_body, me_patch_body;

/* two-factor (totp.c) */
void totp_enrol(struct request_ctx *ctx);
void totp_confirm(struct request_ctx *ctx);
void totp_disable(struct request_ctx *ctx);
void auth_login_totp(struct request_ctx *ctx);
extern const struct fieldset totp_code_body, login_totp_body;

/* orgs.c */
void org_create(struct request_ctx *ctx);
void org_get(struct request_ctx *ctx);
void org_patch(struct request_ctx *ctx);
void org_delete(struct request_ctx *ctx);
void billing_get(struct request_ctx *ctx);
void billing_patch(struct request_ctx *ctx);
extern const struct fieldset org_create_body, org_patch_body, billing_body;

/* members.c */
void members_list(struct request_ctx *ctx);
void member_get(struct request_ctx *ctx);
void member_patch(struct request_ctx *ctx);
void member_delete(struct request_ctx *ctx);
extern const struct fieldset member_patch_body;

/* invitations.c */
void invitation_create(struct request_ctx *ctx);
void invitations_list(struct request_ctx *ctx);
void invitation_cancel(struct request_ctx *ctx);
void invitation_resend(struct request_ctx *ctx);
void invitation_preview(struct request_ctx *ctx);
void invitation_accept(struct request_ctx *ctx);
extern const struct fieldset invite_body;

/* invitation_batch.c */
void invitation_batch(struct request_ctx *ctx);
extern const struct fieldset invite_batch_body;

/* api_keys.c */
void api_key_create(struct request_ctx *ctx);
void api_keys_list(struct request_ctx *ctx);
void api_key_revoke(struct request_ctx *ctx);
extern const struct fieldset api_key_body;

/* audit.c */
void audit_events_list(struct request_ctx *ctx);
int audit_filters(struct request_ctx *ctx, const char **action, const char **from, const char **to);

/* export.c */
void audit_events_export(struct request_ctx *ctx);

/* reviews.c */
void access_review_create(struct request_ctx *ctx);
void access_reviews_list(struct request_ctx *ctx);
void access_review_get(struct request_ctx *ctx);
void access_review_items_list(struct request_ctx *ctx);
void access_review_item_patch(struct request_ctx *ctx);
void access_review_complete(struct request_ctx *ctx);
void access_review_cancel(struct request_ctx *ctx);
extern const struct fieldset review_start_body, review_decide_body;

/* alerts.c */
void alerts_list(struct request_ctx *ctx);
void alert_acknowledge(struct request_ctx *ctx);
void alert_rules_get(struct request_ctx *ctx);
void alert_rules_patch(struct request_ctx *ctx);
extern const struct fieldset alert_rules_body;

/* objects.c */
void objects_list(struct request_ctx *ctx);
void object_get(struct request_ctx *ctx);
void object_create(struct request_ctx *ctx);
void object_patch(struct request_ctx *ctx);
void object_delete(struct request_ctx *ctx);
void connection_sync(struct request_ctx *ctx);
void connection_runs_list(struct request_ctx *ctx);
extern const struct fieldset resource_body, resource_patch_body, connection_body, connection_patch_body;

/*
 * The parameter of finicom.require_email_verified() for this server: "true"
 * (creating API keys and sending invitations need a verified address)
 * unless signup = invite_only, where every account came from an invitation
 * or the operator.
 */
static inline const char *
email_verified_required(const struct request_ctx *ctx)
{
	return ctx->cfg->signup == SIGNUP_INVITE_ONLY ? "false" : "true";
}

/* The embedded OpenAPI document (src/openapi.json) and its length. */
const char *openapi_document(size_t *len);

#endif
