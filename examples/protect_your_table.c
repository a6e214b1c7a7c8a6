/* README "Protect your own table": a table of the application's own,
 * shop.invoices, protected by row-level security that reads the tenant
 * from the context, and an audit trail written by a trigger that reads the
 * audit context (examples/protect_your_table.sql, which `make demo` loads
 * as the superuser before the examples run).
 *
 * The program connects as the application role app_service through a pool
 * and runs every request as a unit of work (myappctx_run_in_context():
 * context, audit reason, statements and commit in one round trip) for two
 * tenants.  It shows that a tenant sees only its own rows, that writing
 * into another tenant is refused by the policy's WITH CHECK (SQLSTATE
 * 42501), that a request without a tenant sees nothing, and that the audit
 * rows carry the request's user, reason and ticket and cannot be written
 * by the application.  It exits non-zero on any unexpected result.  It
 * checks only rows it inserted itself, so it can be run again.
 *
 * Usage: protect_your_table [conninfo]  (default "": the PG* environment) */
#include <string.h>

#include "context_examples.h"

#define ACME   "11111111-1111-1111-1111-111111111111"
#define GLOBEX "22222222-2222-2222-2222-222222222222"
#define ALICE  "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"   /* works for acme */
#define CAROL  "cccccccc-cccc-4ccc-8ccc-cccccccccccc"   /* works for globex */

/* Who makes a request, for which tenant, and why (all optional but the user). */
struct request {
    const char *user, *tenant, *reason, *ticket;
};

/* One request: a unit of work on a pooled connection.  Returns what
 * myappctx_run_in_context() returned; the results are the caller's. */
static int
run(myappctx_pool *pool, const struct request *rq, const myappctx_stmt *stmts, size_t n,
    PGresult **results, myappctx_error *err)
{
    myappctx_uuid user, tenant;
    ex_ok(myappctx_uuid_parse(&user, rq->user, err), err, "user id");
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    if (rq->tenant != NULL) {
        ex_ok(myappctx_uuid_parse(&tenant, rq->tenant, err), err, "tenant id");
        ctx.tenant_id = &tenant;
    }
    ctx.audit_reason = rq->reason;
    ctx.audit_ticket = rq->ticket;

    myappctx_conn *conn = NULL;
    ex_ok(myappctx_pool_acquire(pool, &conn, -1, err), err, "acquire");
    int rc = myappctx_run_in_context(conn, &ctx, stmts, n, results, err);
    myappctx_error release_err = { 0 };
    ex_ok(myappctx_pool_release(pool, conn), &release_err, "release");
    return rc;
}

/* A request that must fail with SQLSTATE @sqlstate; prints the refusal. */
static void
expect_refused(myappctx_pool *pool, const struct request *rq, const myappctx_stmt *stmt,
               const char *sqlstate, const char *what)
{
    myappctx_error err;
    int rc = run(pool, rq, stmt, 1, NULL, &err);
    if (rc == MYAPPCTX_OK || strcmp(err.sqlstate, sqlstate) != 0) {
        fflush(stdout);
        fprintf(stderr, "UNEXPECTED: %s: %s (%d) [%s] %s, expected SQLSTATE %s\n", what,
                myappctx_strerror(rc), rc, rc == MYAPPCTX_OK ? "" : err.sqlstate,
                rc == MYAPPCTX_OK ? "succeeded" : err.message, sqlstate);
        exit(EXIT_FAILURE);
    }
    printf("   %s: refused, SQLSTATE %s\n      %s\n", what, err.sqlstate, err.message);
}

/* Inserts one invoice per number for the request's tenant (tenant_id comes
 * from the column default); appends the new ids to @ids, "{1,2}" style. */
static void
add_invoices(myappctx_pool *pool, const struct request *rq, const char *const *numbers,
             const char *customer, size_t n, char *ids, size_t ids_size)
{
    static const char insert[] =
        "INSERT INTO shop.invoices (number, customer, amount) VALUES ($1, $2, $3) "
        "RETURNING id, tenant_id";
    myappctx_stmt stmts[4];
    const char *params[4][3];
    PGresult *res[4];
    myappctx_error err;
    ex_check(n <= 4, "at most 4 invoices per request");
    for (size_t i = 0; i < n; i++) {
        params[i][0] = numbers[i];
        params[i][1] = customer;
        params[i][2] = i == 0 ? "120.00" : "75.50";
        stmts[i] = (myappctx_stmt){ insert, 3, params[i] };
    }
    ex_ok(run(pool, rq, stmts, n, res, &err), &err, "INSERT INTO shop.invoices");
    for (size_t i = 0; i < n; i++) {
        ex_check(strcmp(PQgetvalue(res[i], 0, 1), rq->tenant) == 0,
                 "tenant_id defaults to the context's tenant");
        printf("   invoice %s: id %s, tenant_id %s (the column default)\n", numbers[i],
               PQgetvalue(res[i], 0, 0), PQgetvalue(res[i], 0, 1));
        size_t len = strlen(ids);
        snprintf(ids + len, ids_size - len, "%s%s", len > 1 ? "," : "",
                 PQgetvalue(res[i], 0, 0));
    }
    myappctx_results_free(res, n);
}

int
main(int argc, char **argv)
{
    myappctx_error err;
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = argc > 1 ? argv[1] : "";
    cfg.min_size = 1;
    cfg.max_size = 2;
    myappctx_pool *pool = NULL;
    ex_ok(myappctx_pool_new(&pool, &cfg, &err), &err, "pool");

    printf("1. Who the application connects as (it must bypass nothing):\n");
    myappctx_conn *conn = NULL;
    PGresult *res = NULL;
    ex_ok(myappctx_pool_acquire(pool, &conn, -1, &err), &err, "acquire");
    ex_ok(myappctx_exec(conn,
                        "SELECT r.rolname, r.rolsuper, r.rolbypassrls, "
                        "       pg_catalog.pg_has_role(r.oid, t.relowner, 'MEMBER') "
                        "FROM pg_catalog.pg_roles AS r, pg_catalog.pg_class AS t "
                        "WHERE r.rolname = current_user AND t.oid = 'shop.invoices'::regclass",
                        0, NULL, &res, &err), &err, "who am I");
    printf("   %s: superuser %s, BYPASSRLS %s, owner of shop.invoices %s\n",
           PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
           PQgetvalue(res, 0, 3));
    ex_check(strcmp(PQgetvalue(res, 0, 1), "f") == 0 && strcmp(PQgetvalue(res, 0, 2), "f") == 0
                 && strcmp(PQgetvalue(res, 0, 3), "f") == 0,
             "the application role is neither a superuser, BYPASSRLS, nor the table's owner");
    PQclear(res);
    ex_ok(myappctx_pool_release(pool, conn), &err, "release");

    const struct request alice = { ALICE, ACME, "monthly billing", "FIN-1042" };
    const struct request carol = { CAROL, GLOBEX, "new customer", "SALES-7" };
    char acme_ids[128] = "{", globex_ids[64] = "{", all_ids[192];

    printf("\n2. Alice records two invoices for acme, Carol one for globex:\n");
    add_invoices(pool, &alice, (const char *const[]){ "A-001", "A-002" }, "Wile E. Coyote", 2,
                 acme_ids, sizeof acme_ids);
    add_invoices(pool, &carol, (const char *const[]){ "G-001" }, "Hank Scorpio", 1,
                 globex_ids, sizeof globex_ids);
    strcat(acme_ids, "}");
    strcat(globex_ids, "}");
    snprintf(all_ids, sizeof all_ids, "{%.*s,%.*s}", (int)strlen(acme_ids) - 2, acme_ids + 1,
             (int)strlen(globex_ids) - 2, globex_ids + 1);

    printf("\n3. Alice (acme) reads the invoices of this run:\n");
    {
        const char *ids[] = { all_ids }, *globex[] = { GLOBEX };
        myappctx_stmt q[] = {
            { "SELECT id, tenant_id, number, customer, amount FROM shop.invoices "
              "WHERE id = ANY ($1::bigint[]) ORDER BY id", 1, ids },
            /* Asking for globex's rows by name changes nothing. */
            { "SELECT count(*) FROM shop.invoices WHERE tenant_id = $1::uuid", 1, globex },
        };
        PGresult *r[2];
        ex_ok(run(pool, &alice, q, 2, r, &err), &err, "SELECT FROM shop.invoices");
        for (int i = 0; i < PQntuples(r[0]); i++) {
            printf("   id %s  %s  %s  %-15s %s\n", PQgetvalue(r[0], i, 0),
                   PQgetvalue(r[0], i, 1), PQgetvalue(r[0], i, 2), PQgetvalue(r[0], i, 3),
                   PQgetvalue(r[0], i, 4));
            ex_check(strcmp(PQgetvalue(r[0], i, 1), ACME) == 0, "Alice sees only acme's rows");
        }
        ex_check(PQntuples(r[0]) == 2, "Alice sees both acme invoices and not globex's");
        printf("   %d of the 3 rows; WHERE tenant_id = globex: %s rows\n", PQntuples(r[0]),
               PQgetvalue(r[1], 0, 0));
        ex_check(strcmp(PQgetvalue(r[1], 0, 0), "0") == 0, "globex's rows stay invisible");
        myappctx_results_free(r, 2);
    }

    printf("\n4. Writing into another tenant is refused by WITH CHECK:\n");
    {
        const char *p[] = { GLOBEX, "A-666", "Wile E. Coyote", "1.00" };
        myappctx_stmt insert = {
            "INSERT INTO shop.invoices (tenant_id, number, customer, amount) "
            "VALUES ($1::uuid, $2, $3, $4)", 4, p };
        expect_refused(pool, &alice, &insert, "42501", "Alice inserts an invoice for globex");

        const char *q[] = { GLOBEX, acme_ids };
        myappctx_stmt move = {
            "UPDATE shop.invoices SET tenant_id = $1::uuid WHERE id = ANY ($2::bigint[])", 2, q };
        expect_refused(pool, &alice, &move, "42501", "Alice moves acme's invoices to globex");

        /* USING hides globex's row from an UPDATE: nothing to change. */
        const char *u[] = { globex_ids };
        myappctx_stmt update = {
            "UPDATE shop.invoices SET amount = 0 WHERE id = ANY ($1::bigint[])", 1, u };
        PGresult *r = NULL;
        ex_ok(run(pool, &alice, &update, 1, &r, &err), &err, "UPDATE globex's invoice");
        printf("   Alice sets globex's invoice to 0: UPDATE %s (USING hides the row)\n",
               PQcmdTuples(r));
        ex_check(strcmp(PQcmdTuples(r), "0") == 0, "globex's row cannot be updated from acme");
        PQclear(r);
    }

    printf("\n5. A request without a tenant sees nothing (NULL matches no row):\n");
    {
        const struct request no_tenant = { ALICE, NULL, NULL, NULL };
        const char *p[] = { all_ids };
        myappctx_stmt q = { "SELECT count(*) FROM shop.invoices WHERE id = ANY ($1::bigint[])",
                            1, p };
        PGresult *r = NULL;
        ex_ok(run(pool, &no_tenant, &q, 1, &r, &err), &err, "SELECT without a tenant");
        printf("   rows: %s\n", PQgetvalue(r, 0, 0));
        ex_check(strcmp(PQgetvalue(r, 0, 0), "0") == 0, "no tenant, no rows");
        PQclear(r);
    }

    printf("\n6. The audit trail, as acme reads it:\n");
    {
        const char *p[] = { all_ids };
        myappctx_stmt q = {
            "SELECT invoice_id, action, user_id, reason, ticket, db_user "
            "FROM shop.invoice_audit WHERE invoice_id = ANY ($1::bigint[]) ORDER BY id", 1, p };
        PGresult *r = NULL;
        ex_ok(run(pool, &alice, &q, 1, &r, &err), &err, "SELECT FROM shop.invoice_audit");
        for (int i = 0; i < PQntuples(r); i++) {
            printf("   invoice %s %s by %s (connected as %s): reason \"%s\", ticket %s\n",
                   PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                   PQgetvalue(r, i, 5), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
            ex_check(strcmp(PQgetvalue(r, i, 1), "INSERT") == 0
                         && strcmp(PQgetvalue(r, i, 2), ALICE) == 0
                         && strcmp(PQgetvalue(r, i, 3), alice.reason) == 0
                         && strcmp(PQgetvalue(r, i, 4), alice.ticket) == 0
                         && strcmp(PQgetvalue(r, i, 5), "app_service") == 0,
                     "each audit row carries the request's user, reason and ticket");
        }
        /* Two inserts; the refused statements rolled back with their audit
         * rows, the UPDATE that matched nothing wrote none, and globex's
         * row is globex's. */
        ex_check(PQntuples(r) == 2, "exactly the two acme inserts are in acme's trail");
        PQclear(r);
    }

    printf("\n7. The application cannot write the trail (only the trigger can):\n");
    {
        const char *p[] = { ACME };
        myappctx_stmt forge = {
            "INSERT INTO shop.invoice_audit (invoice_id, tenant_id, action, reason) "
            "VALUES (0, $1::uuid, 'INSERT', 'forged')", 1, p };
        expect_refused(pool, &alice, &forge, "42501", "Alice inserts an audit row");
        myappctx_stmt erase = { "DELETE FROM shop.invoice_audit", 0, NULL };
        expect_refused(pool, &alice, &erase, "42501", "Alice deletes the trail");
    }

    myappctx_pool_free(pool);
    printf("\nprotect_your_table: done\n");
    return 0;
}
