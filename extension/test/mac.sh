#!/bin/sh
# The wire format of extension/README.md, implemented a second time with
# nothing but printf, od, perl's pack and `openssl dgst -mac HMAC`: the
# psql-driven tests send MACs made here, seal_test.c sends MACs made with
# libcrypto, and the server must accept both.
#
#   mac.sh open backend|any
#   mac.sh context STREAM COUNTER local|session USER TENANT ROLE SESSION METADATA REASON TICKET
#   mac.sh key_id           (prints the 8-byte fingerprint in hex, no \x)
#
# STREAM is bytea text (\x + 32 hex digits).  The key is $SEAL_KEY_HEX.
# Prints the MAC as bytea text (\x + 64 hex digits).
set -eu
: "${SEAL_KEY_HEX:?}"

# A field: 4-byte big-endian length, then the bytes (all in hex).
text_field() {
    hex=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')
    printf '%08x%s' $(( ${#hex} / 2 )) "$hex"
}
hex_field() {
    printf '%08x%s' $(( ${#1} / 2 )) "$1"
}

case ${1:-} in
    open)
        [ $# -eq 2 ] || { echo "usage: mac.sh open backend|any" >&2; exit 2; }
        msg=$(text_field "myappctx_seal/v1/open")$(text_field "$2")
        ;;
    context)
        [ $# -eq 11 ] || { echo "usage: mac.sh context STREAM COUNTER SCOPE USER TENANT ROLE SESSION METADATA REASON TICKET" >&2; exit 2; }
        stream=${2#\\x}
        msg=$(text_field "myappctx_seal/v1/context")$(hex_field "$stream")$(hex_field "$(printf '%016x' "$3")")
        shift 3
        for f in "$@"; do
            msg=$msg$(text_field "$f")
        done
        ;;
    key_id)
        perl -e 'print pack("H*", $ARGV[0])' "$(text_field "myappctx_seal/v1/key_id")" |
            openssl dgst -sha256 -mac HMAC -macopt "hexkey:$SEAL_KEY_HEX" -binary |
            od -An -v -tx1 | tr -d ' \n' | cut -c1-16
        exit 0
        ;;
    *) echo "usage: mac.sh open|context|key_id ..." >&2; exit 2 ;;
esac

printf '\\x'
perl -e 'print pack("H*", $ARGV[0])' "$msg" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$SEAL_KEY_HEX" -binary |
    od -An -v -tx1 | tr -d ' \n'
echo
