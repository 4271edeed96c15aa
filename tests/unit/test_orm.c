/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Tests of the ORM: models and validation, save/delete/refresh, every
 * lookup (including hostile values), Q combinations, ordering and
 * slicing, joins and select_related (with query counts), aggregates,
 * on_delete, signals, several databases with a router, and atomic blocks
 * rolled back by kiln_abort. Every test runs against SQLite, and again
 * against MariaDB when KILN_TEST_MYSQL_URL is set
 * (tests/integration/mariadb.sh does that).
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <kiln/kiln.h>

#include "orm_int.h"
#include "suites.h"

/* ---- the models ------------------------------------------------------- */

extern const kiln_model Author, Post, Comment, Tag;

static const kiln_field author_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "name", .type = KILN_FIELD_CHAR, .max_length = 100 },
	{ .name = "email", .type = KILN_FIELD_EMAIL, .flags = KILN_F_NULL },
	{ .name = "active", .type = KILN_FIELD_BOOL, .def = "true" },
};
const kiln_model Author = {
	.app_label = "blog",
	.name = "Author",
	.table = "blog_author",
	.fields = author_fields,
	.nfields = 4,
};

static const char *const kinds[] = { "news", "essay", NULL };
static const char *const post_order[] = { "id", NULL };

static const kiln_field post_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "title", .type = KILN_FIELD_CHAR, .max_length = 200 },
	{ .name = "body", .type = KILN_FIELD_TEXT, .def = "" },
	{ .name = "author",
	    .type = KILN_FIELD_FK,
	    .to = &Author,
	    .on_delete = KILN_ON_DELETE_CASCADE,
	    .related_name = "posts" },
	{ .name = "editor",
	    .type = KILN_FIELD_FK,
	    .flags = KILN_F_NULL,
	    .to = &Author,
	    .on_delete = KILN_ON_DELETE_SET_NULL },
	{ .name = "views", .type = KILN_FIELD_INT, .def = "0" },
	{ .name = "rating", .type = KILN_FIELD_FLOAT, .flags = KILN_F_NULL },
	{ .name = "price",
	    .type = KILN_FIELD_DECIMAL,
	    .flags = KILN_F_NULL,
	    .max_digits = 8,
	    .decimal_places = 2 },
	{ .name = "published", .type = KILN_FIELD_DATE, .flags = KILN_F_NULL },
	{ .name = "created",
	    .type = KILN_FIELD_DATETIME,
	    .flags = KILN_F_AUTO_NOW_ADD },
	{ .name = "uid", .type = KILN_FIELD_UUID, .flags = KILN_F_NULL },
	{ .name = "meta", .type = KILN_FIELD_JSON, .flags = KILN_F_NULL },
	{ .name = "slug",
	    .type = KILN_FIELD_SLUG,
	    .flags = KILN_F_NULL | KILN_F_INDEX },
	{ .name = "kind",
	    .type = KILN_FIELD_CHAR,
	    .max_length = 10,
	    .def = "news",
	    .choices = kinds },
	{ .name = "big", .type = KILN_FIELD_BIGINT, .def = "0" },
};
static const kiln_field tag_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "name",
	    .type = KILN_FIELD_CHAR,
	    .max_length = 30,
	    .flags = KILN_F_UNIQUE },
};
const kiln_model Tag = {
	.app_label = "blog",
	.name = "Tag",
	.table = "blog_tag",
	.fields = tag_fields,
	.nfields = 2,
};

static const kiln_m2m post_m2m[] = {
	{ .name = "tags", .to = &Tag, .related_name = "posts" },
};

const kiln_model Post = {
	.app_label = "blog",
	.name = "Post",
	.table = "blog_post",
	.fields = post_fields,
	.nfields = sizeof(post_fields) / sizeof(post_fields[0]),
	.ordering = post_order,
	.m2m = post_m2m,
	.nm2m = 1,
};

static const kiln_field comment_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "post",
	    .type = KILN_FIELD_FK,
	    .to = &Post,
	    .on_delete = KILN_ON_DELETE_CASCADE },
	{ .name = "by",
	    .type = KILN_FIELD_FK,
	    .flags = KILN_F_NULL,
	    .to = &Author,
	    .on_delete = KILN_ON_DELETE_PROTECT },
	{ .name = "text", .type = KILN_FIELD_TEXT },
};
static const char *const comment_unique[] = { "post,by", NULL };

const kiln_model Comment = {
	.unique_together = comment_unique,
	.app_label = "blog",
	.name = "Comment",
	.table = "blog_comment",
	.fields = comment_fields,
	.nfields = 4,
};

/* ---- fixture: one app per backend --------------------------------------- */

typedef struct fx {
	kiln_app *app; /* configured, models registered, tables created */
	kiln_arena *a; /* for rows and QuerySets */
	bool mysql;    /* which backend */
} fx;

typedef void (*body_fn)(fx *f);

#define OK(expr) ck_assert_int_eq((expr), KILN_OK)

/* Sets up f on backend 0 (SQLite in memory) or 1 (MariaDB). */
static bool
fx_open(fx *f, int backend)
{
	const char *url =
	    backend == 0 ? "sqlite::memory:" : getenv("KILN_TEST_MYSQL_URL");

	if (url == NULL || url[0] == '\0')
		return false;
	memset(f, 0, sizeof(*f));
	f->mysql = backend == 1;
	f->app = kiln_app_new("ormtest");
	ck_assert_ptr_nonnull(f->app);
	OK(kiln_use(f->app, &kiln_db));
	OK(kiln_setting_set(f->app, "database.url", url));
	OK(kiln_app_configure(f->app, NULL));
	OK(kiln_model_register(f->app, &Author));
	OK(kiln_model_register(f->app, &Tag));
	OK(kiln_model_register(f->app, &Post));
	OK(kiln_model_register(f->app, &Comment));
	OK(kiln_orm_drop_tables(f->app, NULL));
	OK(kiln_orm_create_tables(f->app, NULL));
	f->a = kiln_arena_new(0);
	ck_assert_ptr_nonnull(f->a);
	return true;
}

static void
fx_close(fx *f)
{
	kiln_arena_free(f->a);
	kiln_app_free(f->app);
}

/* Runs body on each available backend. */
static void
each_backend(body_fn body)
{
	fx f;
	int b;

	for (b = 0; b < 2; b++) {
		if (!fx_open(&f, b))
			continue;
		body(&f);
		fx_close(&f);
	}
}

static kiln_row *
mk_author(fx *f, const char *name)
{
	kiln_row *r = kiln_row_new(f->app, f->a, &Author);

	ck_assert_ptr_nonnull(r);
	OK(kiln_row_set_str(r, "name", name));
	OK(kiln_row_save(r));
	return r;
}

static kiln_row *
mk_post(fx *f, kiln_row *author, const char *title, int views)
{
	kiln_row *r = kiln_row_new(f->app, f->a, &Post);

	ck_assert_ptr_nonnull(r);
	OK(kiln_row_set_str(r, "title", title));
	OK(kiln_row_set_int(r, "author", kiln_row_pk(author)));
	OK(kiln_row_set_int(r, "views", views));
	OK(kiln_row_save(r));
	return r;
}

static kiln_qs *
posts(fx *f)
{
	return kiln_qs_new(f->app, f->a, &Post);
}

static int64_t
count(kiln_qs *qs)
{
	int64_t n = -1;

	ck_assert_msg(kiln_qs_count(qs, &n) == KILN_OK, "count: %s",
	    qs != NULL ? kiln_app_errmsg(qs->app) : "NULL qs");
	return n;
}

static uint64_t
queries(fx *f)
{
	return kiln_db_queries(kiln_db_conn_get(f->app, NULL));
}

/* ---- tests ----------------------------------------------------------- */

static void
body_create_get(fx *f)
{
	kiln_row *a = mk_author(f, "Ada"), *p, *g;
	const kiln_val *v;

	ck_assert_int_gt(kiln_row_pk(a), 0);
	ck_assert(kiln_row_bool(a, "active")); /* the default */
	p = kiln_row_new(f->app, f->a, &Post);
	OK(kiln_row_set_str(p, "title", "Hello"));
	OK(kiln_row_set_int(p, "author_id", kiln_row_pk(a)));
	OK(kiln_row_set_float(p, "rating", 4.5));
	OK(kiln_row_set_str(p, "price", "12.5"));
	OK(kiln_row_set_str(p, "published", "2024-02-29"));
	OK(kiln_row_set_str(p, "uid", "12345678-9ABC-DEF0-1234-56789ABCDEF0"));
	OK(kiln_row_set_str(p, "meta", "{\"a\": [1, 2]}"));
	OK(kiln_row_set_str(p, "slug", "hello-world"));
	OK(kiln_row_set_int(p, "big", INT64_C(9007199254740993)));
	OK(kiln_row_save(p));
	ck_assert_str_eq(kiln_row_str(p, "price"), "12.50");
	OK(kiln_qs_get(kiln_qs_filter_i(posts(f), "pk", kiln_row_pk(p)), &g));
	ck_assert_str_eq(kiln_row_str(g, "title"), "Hello");
	ck_assert_int_eq(kiln_row_int(g, "author"), kiln_row_pk(a));
	ck_assert(kiln_row_float(g, "rating") == 4.5);
	ck_assert_str_eq(kiln_row_str(g, "price"), "12.50");
	ck_assert_str_eq(kiln_row_str(g, "published"), "2024-02-29");
	ck_assert_str_eq(kiln_row_str(g, "uid"),
	    "12345678-9abc-def0-1234-56789abcdef0");
	ck_assert_str_eq(kiln_row_str(g, "slug"), "hello-world");
	ck_assert_str_eq(kiln_row_str(g, "kind"), "news");
	ck_assert_int_eq(kiln_row_int(g, "big"), INT64_C(9007199254740993));
	ck_assert(kiln_row_is_null(g, "editor"));
	ck_assert_uint_eq(strlen(kiln_row_str(g, "created")) >= 19, 1);
	/* The uuid filter accepts either spelling. */
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "uid",
			     "123456789abcdef0123456789abcdef0")),
	    1);
	v = kiln_val_get(kiln_row_val(g), "meta");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->type, KILN_VAL_MAP);
	ck_assert_str_eq(kiln_row_db(g), "default");
}

START_TEST(test_orm_create_get)
{
	each_backend(body_create_get);
}
END_TEST

static void
body_save_update(fx *f)
{
	kiln_row *a = mk_author(f, "Ada"), *p = mk_post(f, a, "one", 1), *g;
	int64_t pk = kiln_row_pk(p);

	OK(kiln_row_set_str(p, "title", "uno"));
	OK(kiln_row_save(p));
	ck_assert_int_eq(kiln_row_pk(p), pk);
	ck_assert_int_eq(count(posts(f)), 1);
	OK(kiln_qs_get(kiln_qs_filter_i(posts(f), "id", pk), &g));
	ck_assert_str_eq(kiln_row_str(g, "title"), "uno");
	/* refresh reloads what another writer changed. */
	OK(kiln_row_set_str(g, "title", "eins"));
	OK(kiln_row_save(g));
	OK(kiln_row_refresh(p));
	ck_assert_str_eq(kiln_row_str(p, "title"), "eins");
	/* A row with a key that is not in the table is inserted. */
	g = kiln_row_new(f->app, f->a, &Author);
	OK(kiln_row_set_int(g, "id", 500));
	OK(kiln_row_set_str(g, "name", "Bob"));
	OK(kiln_row_save(g));
	ck_assert_int_eq(count(kiln_qs_filter_i(kiln_qs_new(f->app, f->a,
						    &Author),
			     "pk", 500)),
	    1);
}

START_TEST(test_orm_save_update)
{
	each_backend(body_save_update);
}
END_TEST

static void
body_validation(fx *f)
{
	kiln_row *p = kiln_row_new(f->app, f->a, &Post);
	char longer[300];

	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ck_assert_int_eq(kiln_row_set_str(p, "title", longer), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(f->app), "Post.title"));
	ck_assert_int_eq(kiln_row_set_str(p, "published", "2023-02-29"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "created", "2023-01-01 25:00"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "slug", "no spaces"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "meta", "{bad"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "kind", "poem"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "views", "12x"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_int(p, "views", INT64_C(1) << 40),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "price", "1234567.8"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "price", "1.234"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "uid", "not-a-uuid"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set(p, "title", NULL), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(p, "nosuch", "x"), KILN_ENOTFOUND);
	OK(kiln_row_set_str(p, "views", " 42 "));
	ck_assert_int_eq(kiln_row_int(p, "views"), 42);
	OK(kiln_row_set_str(p, "created", "2024-01-02T03:04:05Z"));
	ck_assert_str_eq(kiln_row_str(p, "created"), "2024-01-02 03:04:05");
	/* Saving without the NOT NULL title (and author) is refused. */
	ck_assert_int_eq(kiln_row_save(p), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(kiln_row_new(f->app, f->a, &Author),
			     "email", "nobody"),
	    KILN_EINVAL);
}

START_TEST(test_orm_validation)
{
	each_backend(body_validation);
}
END_TEST

/* Three authors and five posts for the query tests. */
static void
seed(fx *f, kiln_row **au)
{
	kiln_row *p;

	au[0] = mk_author(f, "Ada");
	au[1] = mk_author(f, "bob");
	au[2] = mk_author(f, "Cy");
	OK(kiln_row_set_str(au[2], "email", "cy@example.org"));
	OK(kiln_row_save(au[2]));
	mk_post(f, au[0], "Alpha", 10);
	p = mk_post(f, au[0], "beta", 20);
	OK(kiln_row_set_int(p, "editor", kiln_row_pk(au[1])));
	OK(kiln_row_set_str(p, "published", "2024-03-01"));
	OK(kiln_row_save(p));
	p = mk_post(f, au[1], "Gamma ray", 30);
	OK(kiln_row_set_str(p, "published", "2024-05-01"));
	OK(kiln_row_set_float(p, "rating", 2.5));
	OK(kiln_row_save(p));
	mk_post(f, au[1], "delta", 40);
	p = mk_post(f, au[2], "Epsilon", 50);
	OK(kiln_row_set_int(p, "editor", kiln_row_pk(au[0])));
	OK(kiln_row_save(p));
}

static kiln_val *
list2(fx *f, kiln_val *x, kiln_val *y)
{
	kiln_val *l = kiln_val_list(f->a);

	OK(kiln_val_push(l, x));
	OK(kiln_val_push(l, y));
	return l;
}

static void
body_lookups(fx *f)
{
	kiln_row *au[3];
	kiln_arena *a = f->a;

	seed(f, au);
	ck_assert_int_eq(count(posts(f)), 5);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title", "beta")), 1);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title", "Beta")), 0);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__iexact",
			     "BETA")),
	    1);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__contains",
			     "a")),
	    4);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__contains",
			     "A")),
	    1);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__icontains",
			     "A")),
	    4);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__startswith",
			     "G")),
	    1);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__istartswith",
			     "g")),
	    1);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__endswith",
			     "a")),
	    3);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title__iendswith",
			     "ON")),
	    1);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "views__gt", 20)), 3);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "views__gte", 20)),
	    4);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "views__lt", 20)), 1);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "views__lte", 20)),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "views__in",
			     list2(f, kiln_val_int(a, 10),
				 kiln_val_cstr(a, "40")))),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "views__in",
			     kiln_val_list(a))),
	    0);
	ck_assert_int_eq(count(kiln_qs_exclude(posts(f), "views__in",
			     kiln_val_list(a))),
	    5);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "views__range",
			     list2(f, kiln_val_int(a, 20),
				 kiln_val_int(a, 40)))),
	    3);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "published__range",
			     list2(f, kiln_val_cstr(a, "2024-01-01"),
				 kiln_val_cstr(a, "2024-04-01")))),
	    1);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "editor__isnull",
			     kiln_val_bool(a, true))),
	    3);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "editor__isnull",
			     kiln_val_bool(a, false))),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "editor", NULL)), 3);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "author",
			     kiln_row_pk(au[1]))),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "author__id",
			     kiln_row_pk(au[1]))),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "rating__gte",
			     kiln_val_float(a, 2.0))),
	    1);
	/* Bad lookups are reported when the QuerySet runs. */
	ck_assert_int_eq(kiln_qs_count(kiln_qs_filter_s(posts(f), "titel", "x"),
			     &(int64_t){ 0 }),
	    KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(f->app), "titel"));
	ck_assert_int_eq(kiln_qs_count(kiln_qs_filter_s(posts(f),
					   "title__regex", "x"),
			     &(int64_t){ 0 }),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_qs_count(kiln_qs_filter_s(posts(f), "views",
					   "ten"),
			     &(int64_t){ 0 }),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_qs_count(kiln_qs_filter(posts(f), "views__gt",
					   NULL),
			     &(int64_t){ 0 }),
	    KILN_EINVAL);
}

START_TEST(test_orm_lookups)
{
	each_backend(body_lookups);
}
END_TEST

static void
body_q(fx *f)
{
	kiln_row *au[3];
	kiln_arena *a = f->a;
	kiln_q *q;

	seed(f, au);
	q = kiln_q_or(a, kiln_q_new(a, "views", kiln_val_int(a, 10)),
	    kiln_q_new(a, "title__icontains", kiln_val_cstr(a, "GAMMA")));
	ck_assert_int_eq(count(kiln_qs_where(posts(f), q)), 2);
	ck_assert_int_eq(count(kiln_qs_where(posts(f), kiln_q_not(a, q))), 3);
	q = kiln_q_and(a, kiln_q_new(a, "views__gt", kiln_val_int(a, 10)),
	    kiln_q_not(a,
		kiln_q_new(a, "author__name", kiln_val_cstr(a, "bob"))));
	ck_assert_int_eq(count(kiln_qs_where(posts(f), q)), 2);
	/* exclude keeps the rows where the column is NULL, as Django does. */
	ck_assert_int_eq(count(kiln_qs_exclude(posts(f), "editor",
			     kiln_val_int(a, kiln_row_pk(au[1])))),
	    4);
	ck_assert_int_eq(count(kiln_qs_exclude(posts(f), "editor__name",
			     kiln_val_cstr(a, "bob"))),
	    4);
	ck_assert_int_eq(count(kiln_qs_exclude(posts(f), "rating__lt",
			     kiln_val_float(a, 3.0))),
	    4);
	/* Chained filters are ANDed. */
	ck_assert_int_eq(count(kiln_qs_filter_i(kiln_qs_filter_i(posts(f),
						    "views__gt", 10),
			     "views__lt", 50)),
	    3);
}

START_TEST(test_orm_q)
{
	each_backend(body_q);
}
END_TEST

static void
body_order_slice(fx *f)
{
	kiln_row *au[3], **rows, *r;
	kiln_qs *qs;
	size_t n;

	seed(f, au);
	OK(kiln_qs_all(kiln_qs_order_by(posts(f), "-views", NULL), &rows, &n));
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(kiln_row_str(rows[0], "title"), "Epsilon");
	ck_assert_str_eq(kiln_row_str(rows[4], "title"), "Alpha");
	/* Across the FK (bytes: "bob" > "Cy" > "Ada"), then by views. */
	OK(kiln_qs_all(kiln_qs_order_by(posts(f), "-author__name", "-views",
			   NULL),
	    &rows, &n));
	ck_assert_str_eq(kiln_row_str(rows[0], "title"), "delta");
	ck_assert_str_eq(kiln_row_str(rows[2], "title"), "Epsilon");
	ck_assert_str_eq(kiln_row_str(rows[4], "title"), "Alpha");
	/* Slicing: [1:3] and [3:]. */
	qs = kiln_qs_order_by(posts(f), "views", NULL);
	OK(kiln_qs_all(kiln_qs_slice(qs, 1, 3), &rows, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(kiln_row_int(rows[0], "views"), 20);
	OK(kiln_qs_all(kiln_qs_slice(qs, 3, -1), &rows, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(kiln_row_int(rows[1], "views"), 50);
	ck_assert_int_eq(count(kiln_qs_slice(qs, 1, 3)), 2);
	ck_assert_int_eq(count(kiln_qs_slice(kiln_qs_slice(qs, 1, 4), 1, 10)),
	    2);
	ck_assert_int_eq(count(kiln_qs_slice(qs, 4, 2)), 0);
	OK(kiln_qs_first(qs, &r));
	ck_assert_int_eq(kiln_row_int(r, "views"), 10);
	OK(kiln_qs_last(qs, &r));
	ck_assert_int_eq(kiln_row_int(r, "views"), 50);
	OK(kiln_qs_last(kiln_qs_new(f->app, f->a, &Author), &r));
	ck_assert_str_eq(kiln_row_str(r, "name"), "Cy");
	OK(kiln_qs_first(kiln_qs_filter_i(qs, "views", 999), &r));
	ck_assert_ptr_null(r);
	ck_assert_int_eq(kiln_qs_get(kiln_qs_filter_i(qs, "views", 999), &r),
	    KILN_ENOTFOUND);
	ck_assert_ptr_nonnull(
	    strstr(kiln_app_errmsg(f->app), "does not exist"));
	ck_assert_int_eq(kiln_qs_get(qs, &r), KILN_ELIMIT);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(f->app), "more than one"));
	ck_assert_int_eq(kiln_qs_count(kiln_qs_slice(kiln_qs_slice(qs, 5, -1),
					   INT64_MAX - 2, -1),
			     &(int64_t){ 0 }),
	    KILN_ELIMIT);
	ck_assert_int_eq(kiln_qs_count(kiln_qs_slice(qs, 0, -2),
			     &(int64_t){ 0 }),
	    KILN_EINVAL);
}

START_TEST(test_orm_order_slice)
{
	each_backend(body_order_slice);
}
END_TEST

/* The N+1 pattern, and the same loop with select_related. */
static void
body_select_related(fx *f)
{
	kiln_row *au[3], **rows, *author;
	uint64_t before, plain, joined;
	size_t i, n;
	kiln_str sql;
	size_t np;

	seed(f, au);
	before = queries(f);
	OK(kiln_qs_all(posts(f), &rows, &n));
	for (i = 0; i < n; i++)
		OK(kiln_row_related(rows[i], "author", &author));
	plain = queries(f) - before;
	ck_assert_uint_eq(plain, 1 + n);
	before = queries(f);
	OK(kiln_qs_all(kiln_qs_select_related(posts(f), "author"), &rows, &n));
	for (i = 0; i < n; i++) {
		OK(kiln_row_related(rows[i], "author", &author));
		ck_assert_ptr_nonnull(author);
		ck_assert_int_eq(kiln_row_pk(author),
		    kiln_row_int(rows[i], "author"));
	}
	joined = queries(f) - before;
	ck_assert_uint_eq(joined, 1);
	/* A nullable FK joins LEFT OUTER: rows without an editor stay. */
	OK(kiln_qs_all(kiln_qs_select_related(posts(f), "editor"), &rows, &n));
	ck_assert_uint_eq(n, 5);
	OK(kiln_row_related(rows[0], "editor", &author));
	ck_assert_ptr_null(author);
	OK(kiln_row_related(rows[1], "editor", &author));
	ck_assert_str_eq(kiln_row_str(author, "name"), "bob");
	OK(kiln_qs_sql(kiln_qs_select_related(posts(f), "editor"), "sqlite",
	    &sql, &np));
	ck_assert_ptr_nonnull(
	    strstr(sql.ptr, "LEFT OUTER JOIN \"blog_author\""));
	/* Filtering across the FK. */
	ck_assert_int_eq(count(
			     kiln_qs_filter_s(posts(f), "author__name", "Ada")),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f),
			     "author__email__endswith", "example.org")),
	    1);
	ck_assert_ptr_nonnull(kiln_row_val(rows[1]));
	ck_assert_ptr_nonnull(kiln_val_get(kiln_row_val(rows[1]), "editor"));
}

START_TEST(test_orm_select_related)
{
	each_backend(body_select_related);
}
END_TEST

static void
body_aggregate(fx *f)
{
	kiln_row *au[3];
	kiln_val *v;

	seed(f, au);
	OK(kiln_qs_aggregate(posts(f), KILN_AGG_COUNT, "rating", &v));
	ck_assert_int_eq(v->u.i, 1);
	OK(kiln_qs_aggregate(posts(f), KILN_AGG_SUM, "views", &v));
	ck_assert_int_eq(v->type, KILN_VAL_INT);
	ck_assert_int_eq(v->u.i, 150);
	OK(kiln_qs_aggregate(posts(f), KILN_AGG_AVG, "views", &v));
	ck_assert_int_eq(v->type, KILN_VAL_FLOAT);
	ck_assert(v->u.f == 30.0);
	OK(kiln_qs_aggregate(posts(f), KILN_AGG_MIN, "title", &v));
	ck_assert_int_eq(v->type, KILN_VAL_STR);
	ck_assert_str_eq(v->u.s.ptr, "Alpha");
	OK(kiln_qs_aggregate(kiln_qs_filter_s(posts(f), "author__name", "bob"),
	    KILN_AGG_MAX, "views", &v));
	ck_assert_int_eq(v->u.i, 40);
	OK(kiln_qs_aggregate(posts(f), KILN_AGG_MAX, "author__name", &v));
	ck_assert_str_eq(v->u.s.ptr, "bob");
	OK(kiln_qs_aggregate(kiln_qs_slice(kiln_qs_order_by(posts(f), "views",
					       NULL),
				 0, 2),
	    KILN_AGG_SUM, "views", &v));
	ck_assert_int_eq(v->u.i, 30);
	OK(kiln_qs_aggregate(kiln_qs_filter_i(posts(f), "views", 7),
	    KILN_AGG_SUM, "views", &v));
	ck_assert_int_eq(v->type, KILN_VAL_NULL);
	OK(kiln_qs_aggregate(kiln_qs_filter_i(posts(f), "views", 7),
	    KILN_AGG_COUNT, "id", &v));
	ck_assert_int_eq(v->u.i, 0);
}

START_TEST(test_orm_aggregate)
{
	each_backend(body_aggregate);
}
END_TEST

static void
body_delete(fx *f)
{
	kiln_row *au[3], *c, *p;
	kiln_qs *authors = kiln_qs_new(f->app, f->a, &Author);

	seed(f, au);
	/* Cy wrote a comment on Ada's post: PROTECT keeps Cy. */
	OK(kiln_qs_first(kiln_qs_filter_s(posts(f), "title", "Alpha"), &p));
	c = kiln_row_new(f->app, f->a, &Comment);
	OK(kiln_row_set_int(c, "post", kiln_row_pk(p)));
	OK(kiln_row_set_int(c, "by", kiln_row_pk(au[2])));
	OK(kiln_row_set_str(c, "text", "nice"));
	OK(kiln_row_save(c));
	ck_assert_int_eq(kiln_row_delete(au[2]), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(f->app), "protected"));
	ck_assert_int_eq(count(authors), 3);
	ck_assert_int_eq(count(posts(f)), 5); /* rolled back */
	/* Deleting Ada cascades to her posts and their comment, and sets
	 * the editor of Cy's post to NULL. */
	OK(kiln_row_delete(au[0]));
	ck_assert_int_eq(kiln_row_pk(au[0]), 0);
	ck_assert_int_eq(count(authors), 2);
	ck_assert_int_eq(count(posts(f)), 3);
	ck_assert_int_eq(count(kiln_qs_new(f->app, f->a, &Comment)), 0);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "editor__isnull",
			     kiln_val_bool(f->a, true))),
	    3);
	/* Now Cy can go; the QuerySet delete uses the same path. */
	OK(kiln_qs_delete(kiln_qs_filter_s(authors, "name", "Cy"), NULL));
	ck_assert_int_eq(count(authors), 1);
	ck_assert_int_eq(count(posts(f)), 2);
}

START_TEST(test_orm_delete)
{
	each_backend(body_delete);
}
END_TEST

static void
body_update(fx *f)
{
	kiln_row *au[3];
	int64_t n;

	seed(f, au);
	OK(kiln_qs_update(kiln_qs_filter_i(posts(f), "views__gte", 30), "views",
	    kiln_val_int(f->a, 1), &n));
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "views", 1)), 3);
	OK(kiln_qs_update(kiln_qs_filter_s(posts(f), "author__name", "Ada"),
	    "title", kiln_val_cstr(f->a, "x"), &n));
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "title", "x")), 2);
	ck_assert_int_eq(kiln_qs_update(posts(f), "kind",
			     kiln_val_cstr(f->a, "poem"), &n),
	    KILN_EINVAL);
}

START_TEST(test_orm_update)
{
	each_backend(body_update);
}
END_TEST

/* What the signal receivers saw. */
typedef struct seen {
	char log[256];
} seen;

static void
rx(const kiln_signal *sig, const void *sender, void *args, void *data)
{
	const kiln_orm_event *ev = args;
	seen *s = data;
	size_t n = strlen(s->log);

	ck_assert_ptr_eq(sender, ev->model);
	snprintf(s->log + n, sizeof(s->log) - n, "%s:%s:%d ",
	    kiln_signal_name(sig), ev->model->name, ev->created);
}

static void
body_signals(fx *f)
{
	static const char *const names[] = { KILN_SIGNAL_PRE_SAVE,
		KILN_SIGNAL_POST_SAVE, KILN_SIGNAL_PRE_DELETE,
		KILN_SIGNAL_POST_DELETE };
	seen s;
	kiln_row *a;
	size_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 4; i++)
		OK(kiln_signal_connect(kiln_signal_get(f->app, names[i]), rx,
		    &Author, &s));
	a = mk_author(f, "Ada");
	OK(kiln_row_set_str(a, "name", "Ada L"));
	OK(kiln_row_save(a));
	mk_post(f, a, "p", 1); /* another sender: not heard */
	OK(kiln_row_delete(a));
	ck_assert_str_eq(s.log,
	    "pre_save:Author:1 post_save:Author:1 pre_save:Author:0 "
	    "post_save:Author:0 pre_delete:Author:0 post_delete:Author:0 ");
}

START_TEST(test_orm_signals)
{
	each_backend(body_signals);
}
END_TEST

/* Hostile values for the injection test. */
static const struct {
	const char *s;
	size_t len;
} hostile[] = {
	{ "it's", 4 },
	{ "\"quoted\"", 8 },
	{ "back\\slash", 10 },
	{ "100%", 4 },
	{ "under_score", 11 },
	{ "nul\0byte", 8 },
	{ "'; DROP TABLE blog_post; --", 27 },
	{ "x' OR '1'='1", 12 },
	{ "%", 1 },
	{ "_", 1 },
	{ "!", 1 },
	{ "\\%", 2 },
	{ "a\\_b", 4 },
	{ "\\'", 2 },
	{ "; SELECT 1", 10 },
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static bool
mem_has(const char *h, size_t hl, const char *n, size_t nl)
{
	size_t i;

	if (nl > hl)
		return false;
	for (i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return true;
	return false;
}

/* Expected count for op and needle over every stored hostile title. */
static int64_t
expect(const char *op, const char *n, size_t nl)
{
	int64_t c = 0;
	size_t i, hl;
	const char *h;

	for (i = 0; i < NHOSTILE; i++) {
		h = hostile[i].s;
		hl = hostile[i].len;
		if (strcmp(op, "exact") == 0 || strcmp(op, "in") == 0)
			c += hl == nl && memcmp(h, n, nl) == 0;
		else if (strcmp(op, "contains") == 0)
			c += mem_has(h, hl, n, nl);
		else if (strcmp(op, "startswith") == 0)
			c += hl >= nl && memcmp(h, n, nl) == 0;
		else if (strcmp(op, "endswith") == 0)
			c += hl >= nl && memcmp(h + hl - nl, n, nl) == 0;
		else if (strcmp(op, "gt") == 0)
			c += memcmp(h, n, hl < nl ? hl : nl) > 0 ||
			    (memcmp(h, n, hl < nl ? hl : nl) == 0 && hl > nl);
	}
	return c;
}

static void
body_injection(fx *f)
{
	static const char *const ops[] = { "exact", "iexact", "contains",
		"icontains", "startswith", "istartswith", "endswith",
		"iendswith", "in", "gt", "lt", "gte", "lte", "range" };
	kiln_row *a = mk_author(f, "Ada"), *p;
	char lookup[64];
	kiln_val *v, *l;
	kiln_qs *qs;
	size_t i, k;
	int64_t n;
	bool ci;

	for (i = 0; i < NHOSTILE; i++) {
		p = kiln_row_new(f->app, f->a, &Post);
		OK(kiln_row_set_int(p, "author", kiln_row_pk(a)));
		OK(kiln_row_set(p, "title",
		    kiln_val_str(f->a,
			(kiln_str){ hostile[i].s, hostile[i].len })));
		OK(kiln_row_set(p, "body",
		    kiln_val_str(f->a,
			(kiln_str){ hostile[i].s, hostile[i].len })));
		OK(kiln_row_save(p));
	}
	for (i = 0; i < NHOSTILE; i++) {
		v = kiln_val_str(f->a,
		    (kiln_str){ hostile[i].s, hostile[i].len });
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			snprintf(lookup, sizeof(lookup), "body__%s", ops[k]);
			if (strcmp(ops[k], "in") == 0) {
				l = kiln_val_list(f->a);
				OK(kiln_val_push(l, v));
				qs = kiln_qs_filter(posts(f), lookup, l);
			} else if (strcmp(ops[k], "range") == 0) {
				qs = kiln_qs_filter(posts(f), lookup,
				    list2(f, v, v));
			} else {
				qs = kiln_qs_filter(posts(f), lookup, v);
			}
			ck_assert_msg(kiln_qs_count(qs, &n) == KILN_OK,
			    "%s with value %zu: %s", lookup, i,
			    kiln_app_errmsg(f->app));
			/* None of the values has letters whose case could
			 * differ except the SQL keywords, so the i-forms
			 * agree with the plain ones on these needles. */
			ci = ops[k][0] == 'i' && strcmp(ops[k], "in") != 0;
			if (strcmp(ops[k], "range") == 0)
				ck_assert_int_eq(n,
				    expect("exact", hostile[i].s,
					hostile[i].len));
			else if (strcmp(ops[k], "lt") == 0 ||
			    strcmp(ops[k], "gte") == 0 ||
			    strcmp(ops[k], "lte") == 0)
				ck_assert_int_ge(n, 0);
			else
				ck_assert_msg(n ==
					expect(ci ? ops[k] + 1 : ops[k],
					    hostile[i].s, hostile[i].len),
				    "%s with value %zu: %lld rows", lookup, i,
				    (long long)n);
		}
	}
	/* The table is still there and whole. */
	ck_assert_int_eq(count(posts(f)), (int64_t)NHOSTILE);
}

START_TEST(test_orm_injection)
{
	each_backend(body_injection);
}
END_TEST

START_TEST(test_orm_sql_placeholders)
{
	fx f;
	kiln_str sql;
	size_t np;
	kiln_qs *qs;

	ck_assert(fx_open(&f, 0));
	qs = kiln_qs_filter_s(posts(&f), "title__contains", "x' OR 1=1 --");
	qs = kiln_qs_filter_s(qs, "author__name__iexact", "ada");
	qs = kiln_qs_order_by(kiln_qs_slice(qs, 5, 10), "-views", NULL);
	OK(kiln_qs_sql(qs, "sqlite", &sql, &np));
	ck_assert_uint_eq(np, 4);
	ck_assert_ptr_null(strstr(sql.ptr, "OR 1=1"));
	ck_assert_ptr_null(strstr(sql.ptr, "ada"));
	ck_assert_ptr_nonnull(strstr(sql.ptr,
	    " FROM \"blog_post\" INNER JOIN \"blog_author\" \"T1\" ON "
	    "(\"T1\".\"id\" = \"blog_post\".\"author_id\") WHERE "
	    "(\"blog_post\".\"title\" LIKE ? ESCAPE '!' AND "
	    "LOWER(\"T1\".\"name\") = LOWER(?)) ORDER BY "
	    "\"blog_post\".\"views\" DESC LIMIT ? OFFSET ?"));
	OK(kiln_qs_sql(qs, "mysql", &sql, &np));
	ck_assert_ptr_nonnull(strstr(sql.ptr, "LIKE BINARY ? ESCAPE '!'"));
	fx_close(&f);
}
END_TEST

/* A router that reads from "replica" and writes to "default". */
static const char *
read_replica(const kiln_model *m, void *data)
{
	(void)data;
	return m == &Author ? "replica" : NULL;
}

static const char *
write_primary(const kiln_model *m, void *data)
{
	(void)m;
	(void)data;
	return "default";
}

static const kiln_db_router primary_replica = {
	.db_for_read = read_replica,
	.db_for_write = write_primary,
};

static void
body_multi_db(fx *f)
{
	const char *url2 = f->mysql ? getenv("KILN_TEST_MYSQL_URL2") : NULL;
	kiln_app *app;
	kiln_arena *a = f->a;
	kiln_row *r, *g;
	int64_t n;

	/* A second app with two aliases on this backend; the fixture's
	 * tables go first (MySQL refuses to drop a referenced table). */
	OK(kiln_orm_drop_tables(f->app, NULL));
	app = kiln_app_new("multi");
	OK(kiln_use(app, &kiln_db));
	OK(kiln_setting_set(app, "database.url",
	    f->mysql ? getenv("KILN_TEST_MYSQL_URL") : "sqlite::memory:"));
	OK(kiln_setting_set(app, "databases.replica",
	    url2 != NULL ? url2 : "sqlite::memory:"));
	OK(kiln_app_configure(app, NULL));
	OK(kiln_model_register(app, &Author));
	OK(kiln_orm_drop_tables(app, "default"));
	OK(kiln_orm_drop_tables(app, "replica"));
	OK(kiln_orm_create_tables(app, "default"));
	OK(kiln_orm_create_tables(app, "replica"));
	ck_assert(kiln_db_has_alias(app, "replica"));
	ck_assert(!kiln_db_has_alias(app, "nope"));
	ck_assert_ptr_null(kiln_db_conn_get(app, "nope"));
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "nope"));
	/* using() on saves and QuerySets. */
	r = kiln_row_new(app, a, &Author);
	OK(kiln_row_set_str(r, "name", "only-on-replica"));
	OK(kiln_row_save_using(r, "replica"));
	ck_assert_str_eq(kiln_row_db(r), "replica");
	OK(kiln_qs_count(kiln_qs_new(app, a, &Author), &n));
	ck_assert_int_eq(n, 0);
	OK(kiln_qs_count(kiln_qs_using(kiln_qs_new(app, a, &Author), "replica"),
	    &n));
	ck_assert_int_eq(n, 1);
	/* With the router: writes land on default, reads come from replica. */
	OK(kiln_db_router_add(app, &primary_replica));
	ck_assert_str_eq(kiln_db_for_read(app, &Author), "replica");
	ck_assert_str_eq(kiln_db_for_write(app, &Author), "default");
	r = kiln_row_new(app, a, &Author);
	OK(kiln_row_set_str(r, "name", "written"));
	OK(kiln_row_save(r));
	ck_assert_str_eq(kiln_row_db(r), "default");
	OK(kiln_qs_count(kiln_qs_using(kiln_qs_new(app, a, &Author), "default"),
	    &n));
	ck_assert_int_eq(n, 1);
	OK(kiln_qs_get(kiln_qs_new(app, a, &Author), &g));
	ck_assert_str_eq(kiln_row_str(g, "name"), "only-on-replica");
	ck_assert_str_eq(kiln_row_db(g), "replica");
	/* Saving a row read from the replica writes to the primary. */
	OK(kiln_row_set_str(g, "name", "copied"));
	OK(kiln_row_save(g));
	ck_assert_str_eq(kiln_row_db(g), "default");
	OK(kiln_qs_count(kiln_qs_filter_s(kiln_qs_using(kiln_qs_new(app, a,
							    &Author),
					      "default"),
			     "name", "copied"),
	    &n));
	ck_assert_int_eq(n, 1);
	OK(kiln_orm_drop_tables(app, "replica"));
	kiln_app_free(app);
}

START_TEST(test_orm_multi_db)
{
	each_backend(body_multi_db);
}
END_TEST

/* The app of the atomic test, for the view. */
static fx *view_fx;

static kiln_err
insert_two(kiln_db_conn *c, void *data)
{
	kiln_arena *a = data;
	kiln_row *r;

	(void)c;
	r = kiln_row_new(view_fx->app, a, &Author);
	if (kiln_row_set_str(r, "name", "inner") != KILN_OK)
		return KILN_EINVAL;
	return kiln_row_save(r);
}

static kiln_resp *
atomic_view(kiln_req *req)
{
	kiln_db_conn *c = kiln_db_conn_get(kiln_req_app(req), NULL);
	kiln_row *r;

	if (kiln_db_begin(c, kiln_req_arena(req)) != KILN_OK)
		kiln_abort(req, 500);
	r = kiln_row_new(kiln_req_app(req), kiln_req_arena(req), &Author);
	if (kiln_row_set_str(r, "name", "doomed") != KILN_OK ||
	    kiln_db_atomic(c, kiln_req_arena(req), insert_two,
		kiln_req_arena(req)) != KILN_OK ||
	    kiln_row_save(r) != KILN_OK)
		kiln_abort(req, 500);
	ck_assert_uint_eq(kiln_db_depth(c), 1);
	kiln_abort(req, 409);
}

static void
body_atomic(fx *f)
{
	kiln_qs *authors = kiln_qs_new(f->app, f->a, &Author);
	kiln_db_conn *c = kiln_db_conn_get(f->app, NULL);
	const kiln_client_resp *resp;
	kiln_client *cl;
	kiln_arena *a;

	view_fx = f;
	/* Nested savepoints: the inner rollback keeps the outer work. */
	OK(kiln_db_begin(c, f->a));
	mk_author(f, "outer");
	OK(kiln_db_begin(c, f->a));
	mk_author(f, "inner");
	ck_assert_uint_eq(kiln_db_depth(c), 2);
	OK(kiln_db_rollback(c));
	OK(kiln_db_commit(c));
	ck_assert_int_eq(count(authors), 1);
	/* A level left open when its arena is reset is rolled back. */
	a = kiln_arena_new(0);
	OK(kiln_db_begin(c, a));
	mk_author(f, "orphan");
	kiln_arena_free(a);
	ck_assert_uint_eq(kiln_db_depth(c), 0);
	ck_assert_int_eq(count(authors), 1);
	/* A view that aborts inside a transaction leaves nothing behind. */
	OK(kiln_route(kiln_app_bp(f->app), "GET", "/atomic", atomic_view,
	    "atomic"));
	cl = kiln_client_new(f->app);
	resp = kiln_client_get(cl, "/atomic");
	ck_assert_ptr_nonnull(resp);
	ck_assert_int_eq(resp->status, 409);
	ck_assert_uint_eq(kiln_db_depth(c), 0);
	kiln_client_free(cl);
	ck_assert_int_eq(count(authors), 1);
	ck_assert_int_eq(count(kiln_qs_filter_s(authors, "name", "doomed")), 0);
}

START_TEST(test_orm_atomic)
{
	each_backend(body_atomic);
}
END_TEST

static void
body_distinct_exists(fx *f)
{
	kiln_row *au[3];
	kiln_qs *qs;
	bool yes;

	seed(f, au);
	qs = kiln_qs_filter_i(kiln_qs_new(f->app, f->a, &Author), "id__in", 0);
	ck_assert_int_eq(kiln_qs_count(qs, &(int64_t){ 0 }), KILN_EINVAL);
	OK(kiln_qs_exists(kiln_qs_filter_s(posts(f), "title", "delta"), &yes));
	ck_assert(yes);
	OK(kiln_qs_exists(kiln_qs_filter_s(posts(f), "title", "zeta"), &yes));
	ck_assert(!yes);
	/* DISTINCT over whole rows, counted through a subquery. */
	qs = kiln_qs_new(f->app, f->a, &Author);
	ck_assert_int_eq(count(kiln_qs_distinct(
			     kiln_qs_filter_i(posts(f), "views__gt", 15))),
	    4);
	ck_assert_int_eq(count(kiln_qs_slice(kiln_qs_distinct(posts(f)), 0, 2)),
	    2);
	ck_assert_int_eq(count(qs), 3);
}

START_TEST(test_orm_distinct_exists)
{
	each_backend(body_distinct_exists);
}
END_TEST

/*
 * The N+1 view of docs/database.md: a list of posts with their authors'
 * names, first with one query per author, then with select_related.
 */
static kiln_resp *
posts_view(kiln_req *req, bool related)
{
	kiln_qs *qs = kiln_objects(req, &Post);
	kiln_resp *resp = kiln_resp_new(req, 200);
	kiln_row **rows, *author;
	size_t i, n;

	if (related)
		qs = kiln_qs_select_related(qs, "author");
	if (kiln_qs_all(qs, &rows, &n) != KILN_OK)
		kiln_abort(req, 500);
	for (i = 0; i < n; i++) {
		if (kiln_row_related(rows[i], "author", &author) != KILN_OK ||
		    kiln_resp_printf_body(resp, "%s by %s\n",
			kiln_row_str(rows[i], "title"),
			kiln_row_str(author, "name")) != KILN_OK)
			kiln_abort(req, 500);
	}
	return resp;
}

static kiln_resp *
slow_view(kiln_req *req)
{
	return posts_view(req, false);
}

static kiln_resp *
fast_view(kiln_req *req)
{
	return posts_view(req, true);
}

static void
body_n_plus_one(fx *f)
{
	const kiln_client_resp *resp;
	kiln_row *au[3];
	kiln_client *cl;
	uint64_t q0, slow, fast;
	char body[512];

	seed(f, au);
	OK(kiln_route(kiln_app_bp(f->app), "GET", "/slow", slow_view, NULL));
	OK(kiln_route(kiln_app_bp(f->app), "GET", "/fast", fast_view, NULL));
	cl = kiln_client_new(f->app);
	q0 = queries(f);
	resp = kiln_client_get(cl, "/slow");
	ck_assert_int_eq(resp->status, 200);
	slow = queries(f) - q0;
	snprintf(body, sizeof(body), "%s", resp->body.ptr);
	q0 = queries(f);
	resp = kiln_client_get(cl, "/fast");
	ck_assert_int_eq(resp->status, 200);
	fast = queries(f) - q0;
	ck_assert_str_eq(resp->body.ptr, body);
	ck_assert_ptr_nonnull(strstr(body, "Gamma ray by bob\n"));
	/* Five posts: 1 + 5 queries against 1 (docs/database.md). */
	ck_assert_uint_eq(slow, 6);
	ck_assert_uint_eq(fast, 1);
	kiln_client_free(cl);
}

START_TEST(test_orm_n_plus_one_view)
{
	each_backend(body_n_plus_one);
}
END_TEST

static void
body_values(fx *f)
{
	kiln_row *au[3];
	kiln_val *v, *item;

	seed(f, au);
	OK(kiln_qs_values(kiln_qs_order_by(posts(f), "-views", NULL), &v,
	    "title", "author__name", NULL));
	ck_assert_uint_eq(kiln_val_len(v), 5);
	item = kiln_val_at(v, 0);
	ck_assert_str_eq(kiln_val_get(item, "title")->u.s.ptr, "Epsilon");
	ck_assert_str_eq(kiln_val_get(item, "author__name")->u.s.ptr, "Cy");
	OK(kiln_qs_values_list(kiln_qs_filter_s(posts(f), "title", "beta"), &v,
	    "views", "published", "editor", NULL));
	item = kiln_val_at(v, 0);
	ck_assert_uint_eq(kiln_val_len(item), 3);
	ck_assert_int_eq(kiln_val_at(item, 0)->u.i, 20);
	ck_assert_str_eq(kiln_val_at(item, 1)->u.s.ptr, "2024-03-01");
	ck_assert_int_eq(kiln_val_at(item, 2)->u.i, kiln_row_pk(au[1]));
	/* No fields named: every field, FKs under their column. */
	OK(kiln_qs_values(kiln_qs_new(f->app, f->a, &Author), &v, NULL));
	ck_assert_uint_eq(kiln_val_len(kiln_val_at(v, 0)), 4);
	ck_assert_int_eq(kiln_val_get(kiln_val_at(v, 0), "active")->type,
	    KILN_VAL_BOOL);
	OK(kiln_qs_values(posts(f), &v, "author_id", NULL));
	ck_assert_uint_eq(kiln_val_len(v), 5);
	ck_assert_int_eq(kiln_qs_values(posts(f), &v, "nope", NULL),
	    KILN_EINVAL);
}

START_TEST(test_orm_values)
{
	each_backend(body_values);
}
END_TEST

static void
body_prefetch(fx *f)
{
	kiln_row *au[3], **rows, **kids, *a2;
	kiln_qs *authors = kiln_qs_new(f->app, f->a, &Author);
	uint64_t q0;
	size_t i, n, nk, total = 0;

	seed(f, au);
	/* Reverse: authors with their posts, two queries in all. */
	q0 = queries(f);
	ck_assert_msg(kiln_qs_all(kiln_qs_prefetch_related(authors, "posts"),
			  &rows, &n) == KILN_OK,
	    "%s", kiln_app_errmsg(f->app));
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		OK(kiln_row_reverse(rows[i], "posts", &kids, &nk));
		total += nk;
		if (strcmp(kiln_row_str(rows[i], "name"), "Ada") == 0) {
			ck_assert_uint_eq(nk, 2);
			ck_assert_str_eq(kiln_row_str(kids[0], "title"),
			    "Alpha");
		}
	}
	ck_assert_uint_eq(total, 5);
	ck_assert_uint_eq(queries(f) - q0, 2);
	/* Without the prefetch, one query per author (and then kept). */
	q0 = queries(f);
	OK(kiln_qs_all(authors, &rows, &n));
	OK(kiln_row_reverse(rows[1], "posts", &kids, &nk));
	ck_assert_uint_eq(nk, 2);
	OK(kiln_row_reverse(rows[1], "posts", &kids, &nk));
	ck_assert_uint_eq(queries(f) - q0, 2);
	/* The editor FK has no related_name: post_set. */
	OK(kiln_row_reverse(au[1], "post_set", &kids, &nk));
	ck_assert_uint_eq(nk, 1);
	ck_assert_str_eq(kiln_row_str(kids[0], "title"), "beta");
	ck_assert_int_eq(kiln_row_reverse(au[1], "comments", &kids, &nk),
	    KILN_ENOTFOUND);
	/* Forward: posts with authors and editors, three queries. */
	q0 = queries(f);
	OK(kiln_qs_all(kiln_qs_prefetch_related(kiln_qs_prefetch_related(posts(
									     f),
						    "author"),
			   "editor"),
	    &rows, &n));
	for (i = 0; i < n; i++) {
		OK(kiln_row_related(rows[i], "author", &a2));
		ck_assert_int_eq(kiln_row_pk(a2),
		    kiln_row_int(rows[i], "author"));
		OK(kiln_row_related(rows[i], "editor", &a2));
		ck_assert((a2 == NULL) == kiln_row_is_null(rows[i], "editor"));
	}
	ck_assert_uint_eq(queries(f) - q0, 3);
	ck_assert_int_eq(kiln_qs_all(kiln_qs_prefetch_related(posts(f),
					 "nothing"),
			     &rows, &n),
	    KILN_EINVAL);
}

START_TEST(test_orm_prefetch)
{
	each_backend(body_prefetch);
}
END_TEST

static void
body_bulk(fx *f)
{
	kiln_row *rows[250], *a = mk_author(f, "Ada"), *c;
	char title[32];
	size_t i;
	int64_t n;

	for (i = 0; i < 250; i++) {
		rows[i] = kiln_row_new(f->app, f->a, &Post);
		snprintf(title, sizeof(title), "bulk %zu", i);
		OK(kiln_row_set_str(rows[i], "title", title));
		OK(kiln_row_set_int(rows[i], "author", kiln_row_pk(a)));
		OK(kiln_row_set_int(rows[i], "views", (int64_t)i));
	}
	OK(kiln_orm_bulk_create(rows, 250));
	ck_assert_int_eq(count(posts(f)), 250);
	OK(kiln_qs_count(kiln_qs_filter_s(posts(f), "title", "bulk 249"), &n));
	ck_assert_int_eq(n, 1);
	rows[0] = kiln_row_new(f->app, f->a, &Post);
	ck_assert_int_eq(kiln_orm_bulk_create(rows, 1), KILN_EINVAL);
	rows[1] = a;
	ck_assert_int_eq(kiln_orm_bulk_create(rows, 2), KILN_EINVAL);
	/* unique_together (post, by) is a real constraint. */
	OK(kiln_qs_first(posts(f), &rows[0]));
	for (i = 0; i < 2; i++) {
		c = kiln_row_new(f->app, f->a, &Comment);
		OK(kiln_row_set_int(c, "post", kiln_row_pk(rows[0])));
		OK(kiln_row_set_int(c, "by", kiln_row_pk(a)));
		OK(kiln_row_set_str(c, "text", "same"));
		ck_assert_int_eq(kiln_row_save(c), i == 0 ? KILN_OK : KILN_EDB);
	}
}

START_TEST(test_orm_bulk_unique)
{
	each_backend(body_bulk);
}
END_TEST

/* The post whose key is pk, fetched anew. */
static kiln_row *
post_pk(fx *f, int64_t pk)
{
	kiln_row *r;

	OK(kiln_qs_get(kiln_qs_filter_i(posts(f), "pk", pk), &r));
	return r;
}

static void
body_bulk_update(fx *f)
{
	kiln_row *au[3], **rows, *two[2], *p, *a, *ghost;
	int64_t m = -1, pk;
	uint64_t q0;
	size_t i, n;

	seed(f, au);
	OK(kiln_qs_all(posts(f), &rows, &n));
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < n; i++) {
		OK(kiln_row_set_int(rows[i], "views", 100 + (int64_t)i));
		OK(kiln_row_set_int(rows[i], "author", kiln_row_pk(au[2])));
		OK(kiln_row_set_str(rows[i], "body", "not named"));
	}
	OK(kiln_row_set_str(rows[0], "uid",
	    "12345678-9abc-def0-1234-56789abcdef0"));
	OK(kiln_row_set_str(rows[1], "price", "3.5"));
	OK(kiln_row_set(rows[2], "rating", NULL));
	/* auto_now_add is not applied: a named one is written as held. */
	OK(kiln_row_set_str(rows[3], "created", "2020-01-02 03:04:05"));
	q0 = queries(f);
	OK(kiln_orm_bulk_update(rows, n, &m, "views", "author_id", "uid",
	    "price", "rating", "views", "created", NULL));
	/* One statement, no transaction around it. */
	ck_assert_uint_eq(queries(f) - q0, 1);
	ck_assert_int_eq(m, 5);
	for (i = 0; i < n; i++) {
		p = post_pk(f, kiln_row_pk(rows[i]));
		ck_assert_int_eq(kiln_row_int(p, "views"), 100 + (int64_t)i);
		ck_assert_int_eq(kiln_row_int(p, "author"), kiln_row_pk(au[2]));
		/* Fields not named keep their stored value. */
		ck_assert_str_eq(kiln_row_str(p, "body"), "");
	}
	ck_assert_str_eq(kiln_row_str(post_pk(f, kiln_row_pk(rows[0])), "uid"),
	    "12345678-9abc-def0-1234-56789abcdef0");
	ck_assert_str_eq(kiln_row_str(post_pk(f, kiln_row_pk(rows[1])),
			     "price"),
	    "3.50");
	ck_assert(kiln_row_is_null(post_pk(f, kiln_row_pk(rows[2])), "rating"));
	ck_assert_int_eq(strncmp(kiln_row_str(post_pk(f, kiln_row_pk(rows[3])),
				     "created"),
			     "2020-01-02 03:04:05", 19),
	    0);
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "author",
			     kiln_row_pk(au[2]))),
	    5);

	/* BOOL and NULL values on another model; matched may be NULL. */
	OK(kiln_row_set_bool(au[0], "active", false));
	OK(kiln_row_set_str(au[0], "email", "ada@example.org"));
	OK(kiln_row_set(au[2], "email", NULL));
	OK(kiln_orm_bulk_update(au, 3, NULL, "active", "email", NULL));
	OK(kiln_qs_get(kiln_qs_filter_i(kiln_qs_new(f->app, f->a, &Author),
			   "pk", kiln_row_pk(au[0])),
	    &a));
	ck_assert(!kiln_row_bool(a, "active"));
	ck_assert_str_eq(kiln_row_str(a, "email"), "ada@example.org");
	ck_assert_int_eq(count(
			     kiln_qs_filter(kiln_qs_new(f->app, f->a, &Author),
				 "email__isnull", kiln_val_bool(f->a, true))),
	    2);
	ck_assert_int_eq(count(
			     kiln_qs_filter(kiln_qs_new(f->app, f->a, &Author),
				 "active", kiln_val_bool(f->a, true))),
	    2);

	/* The same key twice: the first row's value, one row matched. */
	pk = kiln_row_pk(rows[3]);
	two[0] = post_pk(f, pk);
	two[1] = post_pk(f, pk);
	OK(kiln_row_set_int(two[0], "views", 7));
	OK(kiln_row_set_int(two[1], "views", 8));
	OK(kiln_orm_bulk_update(two, 2, &m, "views", NULL));
	ck_assert_int_eq(m, 1);
	ck_assert_int_eq(kiln_row_int(post_pk(f, pk), "views"), 7);

	/* A key not in the table is skipped, not inserted. */
	ghost = post_pk(f, pk);
	OK(kiln_row_set_int(ghost, "id", 999999));
	two[0] = ghost;
	two[1] = rows[4];
	OK(kiln_orm_bulk_update(two, 2, &m, "views", NULL));
	ck_assert_int_eq(m, 1);
	ck_assert_int_eq(count(posts(f)), 5);

	/* n == 0: nothing to do. */
	m = 99;
	OK(kiln_orm_bulk_update(rows, 0, &m, "views", NULL));
	ck_assert_int_eq(m, 0);
}

START_TEST(test_orm_bulk_update)
{
	each_backend(body_bulk_update);
}
END_TEST

/* Asserts that the last error was rc with a message containing want. */
static void
bulk_refused(fx *f, kiln_err got, kiln_err rc, const char *want)
{
	ck_assert_int_eq(got, rc);
	ck_assert_msg(strstr(kiln_app_errmsg(f->app), want) != NULL,
	    "message %s lacks %s", kiln_app_errmsg(f->app), want);
}

static void
body_bulk_update_errors(fx *f)
{
	kiln_row *au[3], **rows, *mix[2];
	int64_t m;
	size_t i, n;
	long k;

	seed(f, au);
	OK(kiln_qs_all(posts(f), &rows, &n));
	for (i = 0; i < n; i++)
		OK(kiln_row_set_int(rows[i], "views", 1000));
	bulk_refused(f,
	    kiln_orm_bulk_update(rows, n, &m, "views", "nope", NULL),
	    KILN_ENOTFOUND, "Post has no field nope");
	bulk_refused(f, kiln_orm_bulk_update(rows, n, &m, "id", NULL),
	    KILN_EINVAL, "Post.id is the primary key");
	bulk_refused(f, kiln_orm_bulk_update(rows, n, &m, "views", "pk", NULL),
	    KILN_EINVAL, "primary key");
	bulk_refused(f, kiln_orm_bulk_update(rows, n, &m, NULL), KILN_EINVAL,
	    "no fields");
	mix[0] = rows[0];
	mix[1] = au[0];
	bulk_refused(f, kiln_orm_bulk_update(mix, 2, &m, "views", NULL),
	    KILN_EINVAL, "rows of Post and Author mixed");
	mix[1] = kiln_row_new(f->app, f->a, &Post);
	bulk_refused(f, kiln_orm_bulk_update(mix, 2, &m, "views", NULL),
	    KILN_EINVAL, "row 1 of Post has no primary key");
	/*
	 * Values that kiln_row_set would refuse (put in by hand): NULL in a
	 * NOT NULL field, a string over max_length, a value not in choices.
	 * Nothing is written, not even the rows before the bad one.
	 */
	k = kiln__orm_field_index(&Post, "title");
	rows[n - 1]->vals[k].type = KILN_VAL_NULL;
	bulk_refused(f,
	    kiln_orm_bulk_update(rows, n, &m, "views", "title", NULL),
	    KILN_EINVAL, "Post.title: may not be NULL");
	ck_assert(strstr(kiln_app_errmsg(f->app), "row 4") != NULL);
	rows[n - 1]->vals[k] = *kiln_val_cstr(f->a,
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789012345678901234567"
	    "8901234567890123456789012345678901234567890123456789012345678901"
	    "234567890123456789");
	bulk_refused(f,
	    kiln_orm_bulk_update(rows, n, &m, "views", "title", NULL),
	    KILN_EINVAL, "Post.title");
	k = kiln__orm_field_index(&Post, "kind");
	rows[0]->vals[k] = *kiln_val_cstr(f->a, "poem");
	bulk_refused(f,
	    kiln_orm_bulk_update(rows, n, &m, "views", "kind", NULL),
	    KILN_EINVAL, "Post.kind");
	ck_assert_int_eq(count(kiln_qs_filter_i(posts(f), "views", 1000)), 0);
}

START_TEST(test_orm_bulk_update_errors)
{
	each_backend(body_bulk_update_errors);
}
END_TEST

/*
 * More rows than one statement takes (500): two statements in one
 * transaction, and a failure in the second rolls back the first.
 */
static void
body_bulk_update_batches(fx *f)
{
	enum { N = 620 };
	kiln_qs *tags = kiln_qs_new(f->app, f->a, &Tag);
	kiln_row *rows[N], **got;
	char name[32];
	uint64_t q0;
	int64_t m;
	size_t i, n;

	for (i = 0; i < N; i++) {
		rows[i] = kiln_row_new(f->app, f->a, &Tag);
		snprintf(name, sizeof(name), "t%zu", i);
		OK(kiln_row_set_str(rows[i], "name", name));
	}
	OK(kiln_orm_bulk_create(rows, N));
	OK(kiln_qs_all(kiln_qs_order_by(tags, "-id", NULL), &got, &n));
	ck_assert_uint_eq(n, N);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "u%lld",
		    (long long)kiln_row_pk(got[i]));
		OK(kiln_row_set_str(got[i], "name", name));
	}
	q0 = queries(f);
	OK(kiln_orm_bulk_update(got, N, &m, "name", NULL));
	ck_assert_int_eq(m, N);
	/* BEGIN, two UPDATEs, COMMIT. */
	ck_assert_uint_eq(queries(f) - q0, 4);
	for (i = 0; i < N; i += 97) {
		snprintf(name, sizeof(name), "u%lld",
		    (long long)kiln_row_pk(got[i]));
		ck_assert_int_eq(count(kiln_qs_filter_s(kiln_qs_new(f->app,
							    f->a, &Tag),
				     "name", name)),
		    1);
	}
	ck_assert_int_eq(count(kiln_qs_filter_s(kiln_qs_new(f->app, f->a, &Tag),
			     "name__startswith", "t")),
	    0);
	/*
	 * Rows go in key order: the smallest 500 keys first. The largest
	 * key, in the second statement, takes a name the first one gave.
	 */
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%lld",
		    (long long)kiln_row_pk(got[i]));
		OK(kiln_row_set_str(got[i], "name", name));
	}
	snprintf(name, sizeof(name), "v%lld",
	    (long long)kiln_row_pk(got[N - 1]));
	OK(kiln_row_set_str(got[0], "name", name));
	ck_assert_int_eq(kiln_orm_bulk_update(got, N, &m, "name", NULL),
	    KILN_EDB);
	ck_assert_int_eq(count(kiln_qs_filter_s(kiln_qs_new(f->app, f->a, &Tag),
			     "name__startswith", "v")),
	    0);
	ck_assert_uint_eq(kiln_db_depth(kiln_db_conn_get(f->app, NULL)), 0);
}

START_TEST(test_orm_bulk_update_batches)
{
	each_backend(body_bulk_update_batches);
}
END_TEST

static void
body_command(fx *f)
{
	const kiln_command *cmd = &kiln_db.commands[0];
	char arg0[] = "createtables", arg1[] = "default", arg2[] = "nope";
	char *argv[] = { arg0, arg1, NULL };
	kiln_row *a;

	ck_assert_str_eq(cmd->name, "createtables");
	OK(kiln_orm_drop_tables(f->app, NULL));
	ck_assert_int_eq(cmd->run(f->app, 2, argv), 0);
	a = mk_author(f, "Ada");
	ck_assert_int_gt(kiln_row_pk(a), 0);
	/* Again: the tables exist and keep their rows. */
	ck_assert_int_eq(cmd->run(f->app, 1, argv), 0);
	ck_assert_int_eq(count(kiln_qs_new(f->app, f->a, &Author)), 1);
	argv[1] = arg2;
	ck_assert_int_eq(cmd->run(f->app, 2, argv), 1);
}

START_TEST(test_orm_createtables)
{
	each_backend(body_command);
}
END_TEST

/* ---- migrations: two versions of a small app ----------------------------- */

extern const kiln_model NoteV1, NoteV2, TagV2;

static const kiln_field note_v1_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "title", .type = KILN_FIELD_CHAR, .max_length = 50 },
	{ .name = "body", .type = KILN_FIELD_TEXT, .flags = KILN_F_NULL },
};
const kiln_model NoteV1 = { .app_label = "notes",
	.name = "Note",
	.table = "notes_note",
	.fields = note_v1_fields,
	.nfields = 3 };

static const kiln_field note_v2_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "title",
	    .type = KILN_FIELD_CHAR,
	    .max_length = 80,
	    .flags = KILN_F_INDEX },
	{ .name = "views", .type = KILN_FIELD_INT, .def = "7" },
	{ .name = "flag", .type = KILN_FIELD_BOOL, .def = "true" },
};
const kiln_model NoteV2 = { .app_label = "notes",
	.name = "Note",
	.table = "notes_note",
	.fields = note_v2_fields,
	.nfields = 4 };

static const kiln_field tag_v2_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "note", .type = KILN_FIELD_FK, .to = &NoteV2 },
	{ .name = "name",
	    .type = KILN_FIELD_CHAR,
	    .max_length = 20,
	    .flags = KILN_F_UNIQUE },
};
const kiln_model TagV2 = { .app_label = "notes",
	.name = "Tag",
	.table = "notes_tag",
	.fields = tag_v2_fields,
	.nfields = 3 };

/* An app on url with the migrations in dir and the given models. */
static kiln_app *
mig_app(const char *url, const char *dir, const kiln_model *m1,
    const kiln_model *m2)
{
	kiln_app *app = kiln_app_new("migtest");

	OK(kiln_use(app, &kiln_db));
	OK(kiln_setting_set(app, "database.url", url));
	OK(kiln_setting_set(app, "database.migrations", dir));
	OK(kiln_app_configure(app, NULL));
	OK(kiln_model_register(app, m1));
	if (m2 != NULL)
		OK(kiln_model_register(app, m2));
	return app;
}

static bool
file_has(const char *path, const char *needle)
{
	char buf[16384];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void
body_migrations(fx *f)
{
	char dir[] = "/tmp/kiln-mig-XXXXXX", dbfile[64], url[128], path[160];
	const char *my = getenv("KILN_TEST_MYSQL_URL");
	const char *written;
	kiln_app *v1, *v2;
	kiln_row *r, *t;
	kiln_arena *a = f->a;
	kiln_db_conn *c;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbfile, sizeof(dbfile), "%s/db.sqlite3", dir);
	snprintf(url, sizeof(url), "sqlite://%s", dbfile);
	v1 = mig_app(f->mysql ? my : url, dir, &NoteV1, NULL);
	c = kiln_db_conn_get(v1, NULL);
	OK(kiln_db_exec(c, "DROP TABLE IF EXISTS notes_tag"));
	OK(kiln_db_exec(c, "DROP TABLE IF EXISTS notes_note"));
	OK(kiln_db_exec(c, "DROP TABLE IF EXISTS kiln_migrations"));
	/* 0001: the first version. */
	OK(kiln_orm_makemigrations(v1, "notes", &written));
	ck_assert_ptr_nonnull(written);
	ck_assert_ptr_nonnull(strstr(written, "/notes/0001_initial.json"));
	ck_assert(file_has(written, "\"create_table\""));
	OK(kiln_orm_makemigrations(v1, "notes", &written));
	ck_assert_ptr_null(written);
	ck_assert_msg(kiln_orm_migrate(v1, NULL, "notes", NULL) == KILN_OK,
	    "%s", kiln_app_errmsg(v1));
	r = kiln_row_new(v1, a, &NoteV1);
	OK(kiln_row_set_str(r, "title", "hello"));
	OK(kiln_row_set_str(r, "body", "kept in 0001"));
	OK(kiln_row_save(r));
	/* 0002: alter, add (with defaults), remove, and a new table. */
	v2 = mig_app(f->mysql ? my : url, dir, &NoteV2, &TagV2);
	OK(kiln_orm_makemigrations(v2, "notes", &written));
	ck_assert_ptr_nonnull(strstr(written, "/notes/0002_auto.json"));
	snprintf(path, sizeof(path), "%s", written);
	ck_assert(file_has(path, "\"alter_field\""));
	ck_assert(file_has(path, "\"add_field\""));
	ck_assert(file_has(path, "\"remove_field\""));
	ck_assert_msg(kiln_orm_migrate(v2, NULL, NULL, NULL) == KILN_OK, "%s",
	    kiln_app_errmsg(v2));
	OK(kiln_qs_get(kiln_qs_new(v2, a, &NoteV2), &r));
	ck_assert_str_eq(kiln_row_str(r, "title"), "hello");
	ck_assert_int_eq(kiln_row_int(r, "views"), 7);
	ck_assert(kiln_row_bool(r, "flag"));
	OK(kiln_row_set_str(r, "title",
	    "a title longer than fifty characters, which 0002 allows"));
	OK(kiln_row_save(r));
	t = kiln_row_new(v2, a, &TagV2);
	OK(kiln_row_set_int(t, "note", kiln_row_pk(r)));
	OK(kiln_row_set_str(t, "name", "x"));
	OK(kiln_row_save(t));
	ck_assert_int_eq(kiln_qs_count(kiln_qs_new(v2, a, &TagV2),
			     &(int64_t){ 0 }),
	    KILN_OK);
	ck_assert_int_eq(kiln__cmd_showmigrations(v2, 1,
			     (char *[]){ (char *)(uintptr_t) "showmigrations",
				 NULL }),
	    0);
	/* Back to 0001: the tag table goes, body comes back (NULL). The
	 * title must fit 0001's 50 characters again (MariaDB checks). */
	OK(kiln_row_set_str(r, "title", "hello"));
	OK(kiln_row_save(r));
	ck_assert_int_eq(kiln_orm_migrate(v2, NULL, "notes", "0009"),
	    KILN_ENOTFOUND);
	OK(kiln_qs_delete(kiln_qs_new(v2, a, &TagV2), NULL));
	ck_assert_msg(kiln_orm_migrate(v2, NULL, "notes", "0001") == KILN_OK,
	    "%s", kiln_app_errmsg(v2));
	OK(kiln_qs_get(kiln_qs_new(v1, a, &NoteV1), &r));
	ck_assert(kiln_row_is_null(r, "body"));
	ck_assert_int_eq(kiln_qs_count(kiln_qs_new(v2, a, &TagV2),
			     &(int64_t){ 0 }),
	    KILN_EDB);
	/* Forward again, then all the way down. */
	ck_assert_msg(kiln_orm_migrate(v2, NULL, "notes", NULL) == KILN_OK,
	    "%s", kiln_app_errmsg(v2));
	ck_assert_msg(kiln_orm_migrate(v2, NULL, "notes", "zero") == KILN_OK,
	    "%s", kiln_app_errmsg(v2));
	ck_assert_int_eq(kiln_qs_count(kiln_qs_new(v1, a, &NoteV1),
			     &(int64_t){ 0 }),
	    KILN_EDB);
	/* A hostile file is refused before anything runs. */
	snprintf(path, sizeof(path), "%s/notes/0003_evil.json", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("{\"operations\": [{\"op\": \"drop_table\", \"table\": "
	      "{\"table\": \"x\\\"; DROP TABLE y; --\", \"fields\": "
	      "[]}}]}\n",
	    fp);
	fclose(fp);
	ck_assert_int_eq(kiln_orm_migrate(v2, NULL, "notes", NULL),
	    KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(v2), "bad table"));
	fp = fopen(path, "w");
	fputs("{\"operations\": [", fp);
	fclose(fp);
	ck_assert_int_eq(kiln_orm_migrate(v2, NULL, "notes", NULL),
	    KILN_EPARSE);
	kiln_app_free(v1);
	kiln_app_free(v2);
	ck_assert_int_eq(system(kiln_arena_printf(a, "rm -rf '%s'", dir)), 0);
}

START_TEST(test_orm_migrations)
{
	each_backend(body_migrations);
}
END_TEST

static void
body_reverse_lookups(fx *f)
{
	kiln_row *au[3], **rows;
	kiln_qs *authors = kiln_qs_new(f->app, f->a, &Author);
	size_t n;

	seed(f, au);
	OK(kiln_qs_all(kiln_qs_filter_s(authors, "posts__title", "Alpha"),
	    &rows, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(kiln_row_str(rows[0], "name"), "Ada");
	OK(kiln_qs_all(kiln_qs_filter_i(authors, "posts__views__gt", 45), &rows,
	    &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(kiln_row_str(rows[0], "name"), "Cy");
	/* One row per matching child, as in Django; distinct folds them. */
	ck_assert_int_eq(count(
			     kiln_qs_filter_i(authors, "posts__views__gt", 5)),
	    5);
	ck_assert_int_eq(count(kiln_qs_distinct(
			     kiln_qs_filter_i(authors, "posts__views__gt", 5))),
	    3);
	/* The editor FK's default reverse name. */
	ck_assert_int_eq(count(kiln_qs_filter_s(authors, "post_set__title",
			     "beta")),
	    1);
	mk_author(f, "Dee");
	OK(kiln_qs_all(kiln_qs_filter(authors, "posts__isnull",
			   kiln_val_bool(f->a, true)),
	    &rows, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(kiln_row_str(rows[0], "name"), "Dee");
	/* Post 5 (Epsilon) is Cy's. */
	ck_assert_int_eq(count(kiln_qs_filter_i(authors, "posts", 5)), 1);
	ck_assert_int_eq(kiln_qs_count(kiln_qs_exclude(authors, "posts__title",
					   kiln_val_cstr(f->a, "Alpha")),
			     &(int64_t){ 0 }),
	    KILN_EUNSUPPORTED);
}

START_TEST(test_orm_reverse_lookups)
{
	each_backend(body_reverse_lookups);
}
END_TEST

static void
body_annotate(fx *f)
{
	kiln_row *au[3], **rows;
	kiln_qs *authors = kiln_qs_new(f->app, f->a, &Author), *qs;
	size_t n;

	seed(f, au);
	mk_author(f, "Dee");
	qs = kiln_qs_annotate(authors, "nposts", KILN_AGG_COUNT, "posts");
	qs = kiln_qs_annotate(qs, "total", KILN_AGG_SUM, "posts__views");
	OK(kiln_qs_all(kiln_qs_order_by(qs, "-nposts", "id", NULL), &rows, &n));
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(kiln_row_str(rows[0], "name"), "Ada");
	ck_assert_int_eq(kiln_row_get(rows[0], "nposts")->u.i, 2);
	ck_assert_int_eq(kiln_row_get(rows[0], "total")->u.i, 30);
	ck_assert_str_eq(kiln_row_str(rows[1], "name"), "bob");
	ck_assert_int_eq(kiln_row_get(rows[1], "total")->u.i, 70);
	ck_assert_str_eq(kiln_row_str(rows[3], "name"), "Dee");
	ck_assert_int_eq(kiln_row_get(rows[3], "nposts")->u.i, 0);
	ck_assert_int_eq(kiln_row_get(rows[3], "total")->type, KILN_VAL_NULL);
	ck_assert_ptr_nonnull(kiln_val_get(kiln_row_val(rows[0]), "nposts"));
	ck_assert_int_eq(count(qs), 4);
	/* A filter before annotate counts through the same join. */
	OK(kiln_qs_all(
	    kiln_qs_order_by(kiln_qs_annotate(kiln_qs_filter_i(authors,
						  "posts__views__gt", 15),
				 "n", KILN_AGG_COUNT, "posts"),
		"id", NULL),
	    &rows, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(kiln_row_get(rows[0], "n")->u.i, 1);
	ck_assert_int_eq(kiln_row_get(rows[1], "n")->u.i, 2);
	/* Across a forward FK too: the author's name per post. */
	OK(kiln_qs_all(kiln_qs_annotate(posts(f), "who", KILN_AGG_MAX,
			   "author__name"),
	    &rows, &n));
	ck_assert_str_eq(kiln_row_get(rows[4], "who")->u.s.ptr, "Cy");
	ck_assert_int_eq(kiln_qs_count(kiln_qs_annotate(authors, "name",
					   KILN_AGG_COUNT, "posts"),
			     &(int64_t){ 0 }),
	    KILN_EINVAL);
}

START_TEST(test_orm_annotate)
{
	each_backend(body_annotate);
}
END_TEST

static void
body_m2m(fx *f)
{
	kiln_row *au[3], *tags[3], **rows, *alpha, *beta;
	static const char *const names[] = { "c", "sql", "o'reilly" };
	kiln_qs *tq = kiln_qs_new(f->app, f->a, &Tag);
	size_t i, n;

	seed(f, au);
	for (i = 0; i < 3; i++) {
		tags[i] = kiln_row_new(f->app, f->a, &Tag);
		OK(kiln_row_set_str(tags[i], "name", names[i]));
		OK(kiln_row_save(tags[i]));
	}
	OK(kiln_qs_get(kiln_qs_filter_s(posts(f), "title", "Alpha"), &alpha));
	OK(kiln_qs_get(kiln_qs_filter_s(posts(f), "title", "beta"), &beta));
	OK(kiln_row_m2m_add(alpha, "tags", kiln_row_pk(tags[0])));
	OK(kiln_row_m2m_add(alpha, "tags", kiln_row_pk(tags[1])));
	OK(kiln_row_m2m_add(alpha, "tags", kiln_row_pk(tags[0]))); /* no-op */
	OK(kiln_row_m2m_add(beta, "tags", kiln_row_pk(tags[1])));
	/* From the tag's side, by the reverse name. */
	OK(kiln_row_m2m_add(tags[2], "posts", kiln_row_pk(beta)));
	OK(kiln_row_m2m(alpha, "tags", &rows, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(kiln_row_str(rows[0], "name"), "c");
	OK(kiln_row_m2m(tags[1], "posts", &rows, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(kiln_row_str(rows[1], "title"), "beta");
	/* Lookups across the relation, both ways. */
	ck_assert_int_eq(count(kiln_qs_filter_s(posts(f), "tags__name", "sql")),
	    2);
	ck_assert_int_eq(count(kiln_qs_distinct(
			     kiln_qs_filter(posts(f), "tags__name__in",
				 list2(f, kiln_val_cstr(f->a, "c"),
				     kiln_val_cstr(f->a, "sql"))))),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter_s(tq, "posts__title", "beta")),
	    2);
	ck_assert_int_eq(count(kiln_qs_filter(posts(f), "tags__isnull",
			     kiln_val_bool(f->a, true))),
	    3);
	OK(kiln_qs_all(kiln_qs_order_by(kiln_qs_annotate(posts(f), "ntags",
					    KILN_AGG_COUNT, "tags"),
			   "-ntags", "id", NULL),
	    &rows, &n));
	ck_assert_str_eq(kiln_row_str(rows[0], "title"), "Alpha");
	ck_assert_int_eq(kiln_row_get(rows[0], "ntags")->u.i, 2);
	ck_assert_int_eq(kiln_qs_count(kiln_qs_exclude(posts(f), "tags__name",
					   kiln_val_cstr(f->a, "c")),
			     &(int64_t){ 0 }),
	    KILN_EUNSUPPORTED);
	/* prefetch_related: one query for the posts, one for the tags. */
	{
		kiln_row **prow, **trow;
		size_t np, nt;
		uint64_t q0 = queries(f);

		OK(kiln_qs_all(kiln_qs_prefetch_related(posts(f), "tags"),
		    &prow, &np));
		OK(kiln_row_m2m(prow[0], "tags", &trow, &nt));
		ck_assert_uint_eq(nt, 2);
		ck_assert_str_eq(kiln_row_str(trow[1], "name"), "sql");
		OK(kiln_row_m2m(prow[1], "tags", &trow, &nt));
		ck_assert_uint_eq(nt, 2);
		OK(kiln_row_m2m(prow[2], "tags", &trow, &nt));
		ck_assert_uint_eq(nt, 0);
		ck_assert_uint_eq(queries(f) - q0, 2);
		OK(kiln_qs_all(kiln_qs_prefetch_related(kiln_qs_order_by(tq,
							    "id", NULL),
				   "posts"),
		    &trow, &nt));
		OK(kiln_row_m2m(trow[1], "posts", &prow, &np));
		ck_assert_uint_eq(np, 2);
	}
	/* remove, clear, and deleting a side removes its links. */
	OK(kiln_row_m2m_remove(alpha, "tags", kiln_row_pk(tags[1])));
	OK(kiln_row_m2m(alpha, "tags", &rows, &n));
	ck_assert_uint_eq(n, 1);
	OK(kiln_row_m2m_clear(alpha, "tags"));
	OK(kiln_row_m2m(alpha, "tags", &rows, &n));
	ck_assert_uint_eq(n, 0);
	OK(kiln_row_delete(beta));
	OK(kiln_row_m2m(tags[1], "posts", &rows, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(count(tq), 3);
	ck_assert_int_eq(kiln_row_m2m_add(alpha, "nope", 1), KILN_ENOTFOUND);
	ck_assert_int_eq(kiln_row_m2m_add(kiln_row_new(f->app, f->a, &Post),
			     "tags", 1),
	    KILN_EINVAL);
}

START_TEST(test_orm_m2m)
{
	each_backend(body_m2m);
}
END_TEST

static const kiln_list_view post_list_spec = {
	.model = &Post,
	.paginate_by = 2,
};
static const kiln_detail_view post_detail_spec = { .model = &Post };
static const kiln_detail_view post_slug_spec = {
	.model = &Post,
	.slug_arg = "slug",
	.template_name = "blog/post_detail.html",
};

static kiln_resp *
list_view(kiln_req *req)
{
	return kiln_render_list(req, &post_list_spec);
}

static kiln_resp *
detail_view(kiln_req *req)
{
	return kiln_render_detail(req, &post_detail_spec);
}

static kiln_resp *
slug_view(kiln_req *req)
{
	return kiln_render_detail(req, &post_slug_spec);
}

static void
spit(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static const char *
body_of(kiln_client *cl, const char *target, int status)
{
	const kiln_client_resp *r = kiln_client_get(cl, target);

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->status == status, "%s: %d (%s)", target, r->status,
	    r->body.ptr);
	return r->body.ptr;
}

static void
body_generic_views(fx *f)
{
	char dir[] = "/tmp/kiln-gv-XXXXXX", path[128];
	kiln_row *au[3], *p;
	kiln_client *cl;
	fx g;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/blog", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/blog/post_list.html", dir);
	spit(path,
	    "{% for p in post_list %}{{ p.title }};{% endfor %}"
	    "|{{ page_obj.number }}/{{ page_obj.num_pages }}"
	    "|{% if is_paginated %}P{% endif %}"
	    "|{% if page_obj.has_next %}{{ page_obj.next_page_number }}"
	    "{% endif %}");
	snprintf(path, sizeof(path), "%s/blog/post_detail.html", dir);
	spit(path, "{{ object.title }} by {{ post.author_id }}");
	/* An app of its own: extensions come before configure. */
	g.a = f->a;
	g.mysql = f->mysql;
	g.app = kiln_app_new("views");
	OK(kiln_use(g.app, &kiln_db));
	OK(kiln_use(g.app, &kiln_templates));
	OK(kiln_setting_set(g.app, "database.url",
	    f->mysql ? getenv("KILN_TEST_MYSQL_URL") : "sqlite::memory:"));
	OK(kiln_setting_set(g.app, "templates.dirs", dir));
	OK(kiln_app_configure(g.app, NULL));
	OK(kiln_model_register(g.app, &Author));
	OK(kiln_model_register(g.app, &Tag));
	OK(kiln_model_register(g.app, &Post));
	OK(kiln_model_register(g.app, &Comment));
	OK(kiln_orm_drop_tables(f->app, NULL));
	OK(kiln_orm_drop_tables(g.app, NULL));
	OK(kiln_orm_create_tables(g.app, NULL));
	seed(&g, au);
	OK(kiln_qs_get(kiln_qs_filter_s(kiln_qs_new(g.app, g.a, &Post), "title",
			   "delta"),
	    &p));
	OK(kiln_row_set_str(p, "slug", "the-delta"));
	OK(kiln_row_save(p));
	OK(kiln_route(kiln_app_bp(g.app), "GET", "/posts", list_view, NULL));
	OK(kiln_route(kiln_app_bp(g.app), "GET", "/posts/<int:pk>", detail_view,
	    NULL));
	OK(kiln_route(kiln_app_bp(g.app), "GET", "/s/<slug>", slug_view, NULL));
	cl = kiln_client_new(g.app);
	ck_assert_str_eq(body_of(cl, "/posts", 200), "Alpha;beta;|1/3|P|2");
	ck_assert_str_eq(body_of(cl, "/posts?page=2", 200),
	    "Gamma ray;delta;|2/3|P|3");
	ck_assert_str_eq(body_of(cl, "/posts?page=last", 200),
	    "Epsilon;|3/3|P|");
	body_of(cl, "/posts?page=4", 404);
	body_of(cl, "/posts?page=x", 404);
	ck_assert_str_eq(body_of(cl, "/posts/2", 200), "beta by 1");
	body_of(cl, "/posts/999", 404);
	ck_assert_str_eq(body_of(cl, "/s/the-delta", 200), "delta by 2");
	body_of(cl, "/s/nope", 404);
	kiln_client_free(cl);
	OK(kiln_orm_drop_tables(g.app, NULL));
	kiln_app_free(g.app);
	ck_assert_int_eq(system(kiln_arena_printf(f->a, "rm -rf '%s'", dir)),
	    0);
}

START_TEST(test_orm_generic_views)
{
	each_backend(body_generic_views);
}
END_TEST

START_TEST(test_orm_register_errors)
{
	static const kiln_field nopk[] = {
		{ .name = "x", .type = KILN_FIELD_INT },
	};
	static const kiln_model NoPk = { .app_label = "t",
		.name = "NoPk",
		.table = "t_nopk",
		.fields = nopk,
		.nfields = 1 };
	static const kiln_field badname[] = {
		{ .name = "id", .type = KILN_FIELD_AUTO },
		{ .name = "a__b", .type = KILN_FIELD_INT },
	};
	static const kiln_model BadName = { .app_label = "t",
		.name = "BadName",
		.table = "t_bad",
		.fields = badname,
		.nfields = 2 };
	static const kiln_field badtable[] = {
		{ .name = "id", .type = KILN_FIELD_AUTO },
	};
	static const kiln_model BadTable = { .app_label = "t",
		.name = "BadTable",
		.table = "t\"; DROP",
		.fields = badtable,
		.nfields = 1 };
	kiln_app *app = kiln_app_new("reg");

	ck_assert_int_eq(kiln_model_register(app, &Author), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "kiln_use"));
	OK(kiln_use(app, &kiln_db));
	ck_assert_int_eq(kiln_model_register(app, &Post), KILN_EINVAL);
	ck_assert_ptr_nonnull(strstr(kiln_app_errmsg(app), "register Author"));
	ck_assert_int_eq(kiln_model_register(app, &NoPk), KILN_EINVAL);
	ck_assert_int_eq(kiln_model_register(app, &BadName), KILN_EINVAL);
	ck_assert_int_eq(kiln_model_register(app, &BadTable), KILN_EINVAL);
	OK(kiln_model_register(app, &Author));
	ck_assert_int_eq(kiln_model_register(app, &Author), KILN_EEXIST);
	ck_assert_ptr_null(kiln_row_new(app, kiln_app_arena(app), &Comment));
	ck_assert_ptr_nonnull(kiln_model_field(&Post, "author_id"));
	ck_assert_ptr_nonnull(kiln_model_field(&Post, "pk"));
	ck_assert_ptr_null(kiln_model_field(&Post, "nope"));
	kiln_app_free(app);
}
END_TEST

/* ---- FILE fields --------------------------------------------------------- */

static const kiln_field doc_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "file", .type = KILN_FIELD_FILE, .upload_to = "docs" },
};
static const kiln_model Doc = {
	.app_label = "files",
	.name = "Doc",
	.table = "files_doc",
	.fields = doc_fields,
	.nfields = 2,
};

START_TEST(test_orm_file_field)
{
	char media[] = "/tmp/kiln-media-XXXXXX", path[256], buf[16];
	kiln_app *app = kiln_app_new("files");
	kiln_arena *a = kiln_arena_new(0);
	kiln_row *d, *d2, *got;
	const char *n1, *n2;
	FILE *fp;
	size_t n;

	ck_assert_ptr_nonnull(mkdtemp(media));
	OK(kiln_use(app, &kiln_db));
	OK(kiln_setting_set(app, "database.url", "sqlite::memory:"));
	OK(kiln_setting_set(app, "app.media_root", media));
	OK(kiln_app_configure(app, NULL));
	OK(kiln_model_register(app, &Doc));
	OK(kiln_orm_create_tables(app, NULL));
	d = kiln_row_new(app, a, &Doc);
	OK(kiln_row_file_save(d, "file", "C:\\up/My Report (1).txt",
	    KILN_STR("hello")));
	n1 = kiln_row_str(d, "file");
	ck_assert_str_eq(n1, "docs/My_Report_1.txt");
	OK(kiln_row_save(d));
	snprintf(path, sizeof(path), "%s/%s", media, n1);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	ck_assert_str_eq(kiln_row_file_path(d, "file"), path);
	ck_assert_str_eq(kiln_row_file_url(d, "file"),
	    "/media/docs/My_Report_1.txt");
	/* The same name again gets a unique suffix; the first is untouched. */
	d2 = kiln_row_new(app, a, &Doc);
	OK(kiln_row_file_save(d2, "file", "My Report (1).txt", KILN_STR("x")));
	n2 = kiln_row_str(d2, "file");
	ck_assert_uint_eq(strlen(n2), strlen(n1) + 8);
	ck_assert_int_eq(strncmp(n2, "docs/My_Report_1_", 17), 0);
	OK(kiln_row_save(d2));
	OK(kiln_qs_get(kiln_qs_filter_i(kiln_qs_new(app, a, &Doc), "id",
			   kiln_row_pk(d)),
	    &got));
	ck_assert_str_eq(kiln_row_str(got, "file"), n1);
	/* Names that would leave media_root are refused. */
	ck_assert_int_eq(kiln_row_set_str(d, "file", "../etc/passwd"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(d, "file", "/etc/passwd"),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_set_str(d, "file", "a//b"), KILN_EINVAL);
	ck_assert_int_eq(kiln_row_file_save(d, "file", "...", KILN_STR("x")),
	    KILN_EINVAL);
	ck_assert_int_eq(kiln_row_file_save(d, "id", "a.txt", KILN_STR("x")),
	    KILN_EINVAL);
	snprintf(path, sizeof(path), "rm -rf '%s'", media);
	ck_assert_int_eq(system(path), 0);
	kiln_arena_free(a);
	kiln_app_free(app);
}
END_TEST

Suite *
orm_suite(void)
{
	Suite *s = suite_create("orm");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_orm_register_errors);
	tcase_add_test(tc, test_orm_create_get);
	tcase_add_test(tc, test_orm_save_update);
	tcase_add_test(tc, test_orm_validation);
	tcase_add_test(tc, test_orm_lookups);
	tcase_add_test(tc, test_orm_q);
	tcase_add_test(tc, test_orm_order_slice);
	tcase_add_test(tc, test_orm_select_related);
	tcase_add_test(tc, test_orm_aggregate);
	tcase_add_test(tc, test_orm_delete);
	tcase_add_test(tc, test_orm_update);
	tcase_add_test(tc, test_orm_signals);
	tcase_add_test(tc, test_orm_injection);
	tcase_add_test(tc, test_orm_file_field);
	tcase_add_test(tc, test_orm_sql_placeholders);
	tcase_add_test(tc, test_orm_multi_db);
	tcase_add_test(tc, test_orm_atomic);
	tcase_add_test(tc, test_orm_distinct_exists);
	tcase_add_test(tc, test_orm_n_plus_one_view);
	tcase_add_test(tc, test_orm_values);
	tcase_add_test(tc, test_orm_prefetch);
	tcase_add_test(tc, test_orm_bulk_unique);
	tcase_add_test(tc, test_orm_bulk_update);
	tcase_add_test(tc, test_orm_bulk_update_errors);
	tcase_add_test(tc, test_orm_bulk_update_batches);
	tcase_add_test(tc, test_orm_createtables);
	tcase_add_test(tc, test_orm_migrations);
	tcase_add_test(tc, test_orm_reverse_lookups);
	tcase_add_test(tc, test_orm_annotate);
	tcase_add_test(tc, test_orm_m2m);
	tcase_add_test(tc, test_orm_generic_views);
	suite_add_tcase(s, tc);
	return s;
}
