/*
 * common_passwords: is a new password one of the 10,000 most common?
 *
 * The list is src/util/common-passwords.txt (its header says where it comes
 * from and under which licence), embedded in the binary.  Its entries are
 * ASCII and lowercase, so a password is looked up with its ASCII letters
 * lowercased: "Password1" and "PASSWORD1" are as common as "password1".
 * Every other byte compares exactly.  The table is built once per process
 * (sorted, then binary search): no allocation, nothing to fail.
 */
#ifndef FINICOM_COMMON_PASSWORDS_H
#define FINICOM_COMMON_PASSWORDS_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the list; the build of the table stops at this many entries. */
#define COMMON_PASSWORDS_MAX 10000

/* True when password (NUL-terminated) is on the list, ASCII case ignored. */
bool password_is_common(const char *password);

/* Build the table now rather than at the first lookup (worker start). */
void common_passwords_warm(void);

/* How many entries the table holds (10,000; for the unit test). */
size_t common_passwords_count(void);

#endif
