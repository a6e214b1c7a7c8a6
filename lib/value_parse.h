/* Strict, locale-independent parsing of text values: stored settings read as
 * typed values, and numbers in server results.  Each returns true on
 * success and leaves *out untouched on failure. */
#ifndef MYAPPCTX_VALUE_PARSE_H
#define MYAPPCTX_VALUE_PARSE_H

#include <stdbool.h>

/* PostgreSQL's boolean input (boolin): surrounding white space ignored, then
 * case-insensitively true/false/yes/no or any unique prefix of them, on,
 * off (or "of"), 1, 0.  *out is 1 or 0. */
bool mxi_parse_bool(const char *text, int *out);

/* A base-10 integer: optional sign then digits only, nothing before or
 * after, and within the range of long long. */
bool mxi_parse_int64(const char *text, long long *out);

/* A plain decimal as PostgreSQL prints numeric: optional '-', digits,
 * optionally '.' and digits.  Not strtod(), which follows LC_NUMERIC. */
bool mxi_parse_decimal(const char *text, double *out);

#endif /* MYAPPCTX_VALUE_PARSE_H */
