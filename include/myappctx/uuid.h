/**
 * @file myappctx/uuid.h
 * UUIDs as a value type.  Parsing is strict: exactly 36 characters in the
 * canonical 8-4-4-4-12 form, hex digits of either case, no braces, no
 * "urn:uuid:" prefix, no surrounding space.
 *
 * Threading and ownership: a myappctx_uuid is a plain value, copied freely;
 * the functions here touch only their arguments and may be called from any
 * thread.
 */
#ifndef MYAPPCTX_UUID_H
#define MYAPPCTX_UUID_H

#include <myappctx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A UUID: 16 bytes in network order.  Plain value, copy freely. */
typedef struct myappctx_uuid {
    unsigned char bytes[16];     /**< the 16 bytes, most significant first */
} myappctx_uuid;

/** Length of the canonical text form, without the NUL. */
#define MYAPPCTX_UUID_STRLEN 36
/** Buffer size that holds the canonical text form and its NUL. */
#define MYAPPCTX_UUID_BUFSIZE 37

/**
 * Parses the canonical text form.
 * @param[out] out  receives the UUID (untouched on failure)
 * @param text      NUL-terminated string
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK, or MYAPPCTX_EINVAL (also for wrong length, a bad
 *         character or a misplaced dash; the message says which).
 */
MYAPPCTX_API int myappctx_uuid_parse(myappctx_uuid *out, const char *text,
                                     myappctx_error *err);

/**
 * Parses exactly @p len bytes (need not be NUL-terminated; an embedded NUL
 * is rejected).  Same rules and codes as myappctx_uuid_parse().
 */
MYAPPCTX_API int myappctx_uuid_parsen(myappctx_uuid *out, const char *text,
                                      size_t len, myappctx_error *err);

/** Writes the lower-case canonical form and a NUL into @p buf (at least
 *  MYAPPCTX_UUID_BUFSIZE bytes); a NULL @p uuid writes "".
 *  @return @p buf (NULL when @p buf is NULL). */
MYAPPCTX_API char *myappctx_uuid_format(const myappctx_uuid *uuid,
                                        char buf[MYAPPCTX_UUID_BUFSIZE]);

/** 1 if the two UUIDs are equal (or both pointers are NULL), else 0. */
MYAPPCTX_API int myappctx_uuid_equal(const myappctx_uuid *a, const myappctx_uuid *b);

/** 1 if every byte is zero (the nil UUID), else 0 (also for NULL). */
MYAPPCTX_API int myappctx_uuid_is_nil(const myappctx_uuid *uuid);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_UUID_H */
