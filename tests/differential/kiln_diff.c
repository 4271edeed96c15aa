/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * The Kiln half of the differential test against Django's ORM
 * (tests/integration/django_diff.sh):
 *
 *     kiln_diff seed DBFILE           creates the tables and the data
 *     kiln_diff run DBFILE CORPUS     runs each QuerySet, one line each
 *
 * A corpus line is a JSON array: operations ["filter", lookup, value],
 * ["exclude", lookup, value], ["or", l1, v1, l2, v2], ["not", lookup,
 * value], ["order", "f1", "-f2", ...], ["slice", lo, hi-or-null],
 * ["related", path], ["prefetch", name], ["distinct"], then a terminal:
 * "list", "count", "exists", "first", "last", "get", or
 * ["agg", "sum"|"avg"|"min"|"max"|"count", field], ["values", f1, ...].
 * tests/differential/django_run.py prints the same lines for Django;
 * the outputs must be equal line for line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/kiln.h>

/* ---- the models (django_run.py declares the same ones) ---------------- */

extern const kiln_model Author, Post, Tag;

static const kiln_field tag_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "name", .type = KILN_FIELD_CHAR, .max_length = 30 },
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

static const char *const post_order[] = { "id", NULL };
static const kiln_field post_fields[] = {
	{ .name = "id", .type = KILN_FIELD_AUTO },
	{ .name = "title", .type = KILN_FIELD_CHAR, .max_length = 200 },
	{ .name = "author",
	    .type = KILN_FIELD_FK,
	    .to = &Author,
	    .related_name = "posts" },
	{ .name = "editor",
	    .type = KILN_FIELD_FK,
	    .flags = KILN_F_NULL,
	    .to = &Author,
	    .on_delete = KILN_ON_DELETE_SET_NULL },
	{ .name = "views", .type = KILN_FIELD_INT },
	{ .name = "rating", .type = KILN_FIELD_FLOAT, .flags = KILN_F_NULL },
	{ .name = "price",
	    .type = KILN_FIELD_DECIMAL,
	    .flags = KILN_F_NULL,
	    .max_digits = 8,
	    .decimal_places = 2 },
	{ .name = "published", .type = KILN_FIELD_DATE, .flags = KILN_F_NULL },
	{ .name = "created", .type = KILN_FIELD_DATETIME },
	{ .name = "slug", .type = KILN_FIELD_SLUG, .flags = KILN_F_NULL },
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

/* Tags, and which posts (1-based) carry each. */
static const char *const tags[] = { "c", "sql", "o'reilly", "unused" };
static const int tagged[][4] = { { 1, 2, 5, 0 }, { 2, 3, 0, 0 },
	{ 3, 7, 8, 12 }, { 0, 0, 0, 0 } };

/* ---- seeding --------------------------------------------------------- */

static const char *const authors[][2] = {
	{ "Ada", "ada@example.org" },
	{ "bob", NULL },
	{ "Cy", "cy@example.com" },
	{ "O'Brien", "ob@example.org" },
	{ "ADA", NULL },
};

/* title, author (1-based), editor (0: none), views, rating, price,
 * published, created, slug */
static const struct {
	const char *title;
	int author, editor, views;
	const char *rating, *price, *published, *created, *slug;
} posts[] = {
	{ "Alpha", 1, 0, 10, "4.5", "10.00", "2024-01-05",
	    "2024-01-05 10:00:00", "alpha" },
	{ "beta", 1, 2, 20, NULL, "5.50", "2024-02-10", "2024-02-10 11:30:00",
	    NULL },
	{ "Gamma ray", 2, 0, 30, "2.5", NULL, NULL, "2024-03-01 00:00:00",
	    "gamma-ray" },
	{ "delta", 2, 1, 40, "3.0", "99.99", "2024-03-15",
	    "2024-03-15 08:15:00.250000", NULL },
	{ "Epsilon", 3, 1, 50, NULL, "0.10", "2023-12-31",
	    "2023-12-31 23:59:59", "epsilon" },
	{ "100% pure", 3, 0, 5, "1.0", "1.00", NULL, "2024-04-01 12:00:00",
	    NULL },
	{ "under_score", 4, 3, 15, "5.0", NULL, "2024-04-02",
	    "2024-04-02 12:00:00", "under_score" },
	{ "Quote's", 4, 0, 25, NULL, "12.34", "2024-04-03",
	    "2024-04-03 12:00:00", NULL },
	{ "back\\slash", 5, 4, 35, "2.0", "7.00", "2024-05-01",
	    "2024-05-01 00:00:01", "back-slash" },
	{ "zeta", 5, 0, 0, "0.5", "0.00", "2024-06-01", "2024-06-01 06:00:00",
	    "zeta" },
	{ "ALPHA", 1, 5, 60, "4.0", "15.00", "2024-06-02",
	    "2024-06-02 06:00:00", NULL },
	{ "eta", 3, 2, 12, NULL, NULL, NULL, "2024-06-03 06:00:00", NULL },
};

#define NPOSTS (sizeof(posts) / sizeof(posts[0]))

static int
die(kiln_app *app, const char *what)
{
	fprintf(stderr, "kiln_diff: %s: %s\n", what, kiln_app_errmsg(app));
	return 1;
}

static int
seed(kiln_app *app, kiln_arena *a)
{
	kiln_row *au[5], *p;
	size_t i, k;

	if (kiln_orm_drop_tables(app, NULL) != KILN_OK ||
	    kiln_orm_create_tables(app, NULL) != KILN_OK)
		return die(app, "tables");
	for (i = 0; i < 5; i++) {
		au[i] = kiln_row_new(app, a, &Author);
		if (au[i] == NULL ||
		    kiln_row_set_str(au[i], "name", authors[i][0]) != KILN_OK ||
		    kiln_row_set_str(au[i], "email", authors[i][1]) !=
			KILN_OK ||
		    kiln_row_set_bool(au[i], "active", i % 2 == 0) != KILN_OK ||
		    kiln_row_save(au[i]) != KILN_OK)
			return die(app, "author");
	}
	for (i = 0; i < NPOSTS; i++) {
		p = kiln_row_new(app, a, &Post);
		if (p == NULL ||
		    kiln_row_set_str(p, "title", posts[i].title) != KILN_OK ||
		    kiln_row_set_int(p, "author",
			kiln_row_pk(au[posts[i].author - 1])) != KILN_OK ||
		    (posts[i].editor > 0 &&
			kiln_row_set_int(p, "editor",
			    kiln_row_pk(au[posts[i].editor - 1])) != KILN_OK) ||
		    kiln_row_set_int(p, "views", posts[i].views) != KILN_OK ||
		    kiln_row_set_str(p, "rating", posts[i].rating) != KILN_OK ||
		    kiln_row_set_str(p, "price", posts[i].price) != KILN_OK ||
		    kiln_row_set_str(p, "published", posts[i].published) !=
			KILN_OK ||
		    kiln_row_set_str(p, "created", posts[i].created) !=
			KILN_OK ||
		    kiln_row_set_str(p, "slug", posts[i].slug) != KILN_OK ||
		    kiln_row_save(p) != KILN_OK)
			return die(app, "post");
	}
	for (i = 0; i < 4; i++) {
		p = kiln_row_new(app, a, &Tag);
		if (p == NULL ||
		    kiln_row_set_str(p, "name", tags[i]) != KILN_OK ||
		    kiln_row_save(p) != KILN_OK)
			return die(app, "tag");
		for (k = 0; k < 4 && tagged[i][k] != 0; k++)
			if (kiln_row_m2m_add(p, "posts", tagged[i][k]) !=
			    KILN_OK)
				return die(app, "tagging");
	}
	return 0;
}

/* ---- running a corpus ------------------------------------------------- */

static const char *
str_at(const kiln_val *l, size_t i)
{
	const kiln_val *v = kiln_val_at(l, i);

	return v != NULL && v->type == KILN_VAL_STR ? v->u.s.ptr : NULL;
}

/* Prints a value the way django_run.py prints Python values. */
static void
print_val(const kiln_val *v)
{
	switch (v->type) {
	case KILN_VAL_NULL:
		printf("None");
		break;
	case KILN_VAL_BOOL:
		printf("%s", v->u.b ? "True" : "False");
		break;
	case KILN_VAL_INT:
		printf("%lld", (long long)v->u.i);
		break;
	case KILN_VAL_FLOAT:
		printf("%.6f", v->u.f);
		break;
	default:
		printf("'%.*s'", (int)v->u.s.len, v->u.s.ptr);
		break;
	}
}

/* The kiln_agg named s ("count", ...), or KILN_AGG__MAX. */
static int
agg_index(const char *s)
{
	static const char *const aggs[] = { "count", "sum", "avg", "min",
		"max" };
	int k;

	for (k = 0; s != NULL && k < 5; k++)
		if (strcmp(s, aggs[k]) == 0)
			return k;
	return KILN_AGG__MAX;
}

/* Applies one operation to *qs; false on a malformed line. */
static bool
apply(kiln_app *app, kiln_arena *a, kiln_qs **qs, const kiln_val *op)
{
	const char *name = str_at(op, 0);
	kiln_val *v;
	kiln_q *q;

	if (name == NULL)
		return false;
	if (strcmp(name, "filter") == 0 || strcmp(name, "exclude") == 0 ||
	    strcmp(name, "not") == 0) {
		v = kiln_val_at(op, 2);
		if (str_at(op, 1) == NULL || v == NULL)
			return false;
		*qs = name[0] == 'f' ? kiln_qs_filter(*qs, str_at(op, 1), v) :
				       kiln_qs_exclude(*qs, str_at(op, 1), v);
	} else if (strcmp(name, "or") == 0) {
		q = kiln_q_or(a,
		    kiln_q_new(a, str_at(op, 1), kiln_val_at(op, 2)),
		    kiln_q_new(a, str_at(op, 3), kiln_val_at(op, 4)));
		*qs = kiln_qs_where(*qs, q);
	} else if (strcmp(name, "order") == 0) {
		/* Up to three items, which is all the corpus uses. */
		switch (kiln_val_len(op)) {
		case 2:
			*qs = kiln_qs_order_by(*qs, str_at(op, 1), NULL);
			break;
		case 3:
			*qs = kiln_qs_order_by(*qs, str_at(op, 1),
			    str_at(op, 2), NULL);
			break;
		default:
			*qs = kiln_qs_order_by(*qs, str_at(op, 1),
			    str_at(op, 2), str_at(op, 3), NULL);
			break;
		}
	} else if (strcmp(name, "slice") == 0) {
		*qs = kiln_qs_slice(*qs, kiln_val_at(op, 1)->u.i,
		    kiln_val_at(op, 2)->type == KILN_VAL_NULL ?
			-1 :
			kiln_val_at(op, 2)->u.i);
	} else if (strcmp(name, "related") == 0) {
		*qs = kiln_qs_select_related(*qs, str_at(op, 1));
	} else if (strcmp(name, "prefetch") == 0) {
		*qs = kiln_qs_prefetch_related(*qs, str_at(op, 1));
	} else if (strcmp(name, "distinct") == 0) {
		*qs = kiln_qs_distinct(*qs);
	} else if (strcmp(name, "annotate") == 0) {
		*qs = kiln_qs_annotate(*qs, str_at(op, 1),
		    (kiln_agg)agg_index(str_at(op, 2)), str_at(op, 3));
	} else {
		return false;
	}
	(void)app;
	return true;
}

static void
print_rows(kiln_row **rows, size_t n)
{
	size_t i;

	printf("[");
	for (i = 0; i < n; i++)
		printf("%s%lld", i > 0 ? ", " : "",
		    (long long)kiln_row_pk(rows[i]));
	printf("]\n");
}

/* Runs the terminal t on qs and prints the result line. */
static void
terminal(kiln_app *app, kiln_qs *qs, const kiln_val *t)
{
	static const char *const aggs[] = { "count", "sum", "avg", "min",
		"max" };
	const char *name = t->type == KILN_VAL_STR ? t->u.s.ptr : str_at(t, 0);
	kiln_row **rows, *r;
	kiln_val *v, *item;
	int64_t n64;
	size_t n, i, k;
	bool yes;
	kiln_err rc;

	if (name == NULL) {
		printf("error\n");
		return;
	}
	if (strcmp(name, "list") == 0) {
		if ((rc = kiln_qs_all(qs, &rows, &n)) == KILN_OK)
			print_rows(rows, n);
	} else if (strcmp(name, "count") == 0) {
		if ((rc = kiln_qs_count(qs, &n64)) == KILN_OK)
			printf("%lld\n", (long long)n64);
	} else if (strcmp(name, "exists") == 0) {
		if ((rc = kiln_qs_exists(qs, &yes)) == KILN_OK)
			printf("%s\n", yes ? "True" : "False");
	} else if (strcmp(name, "first") == 0 || strcmp(name, "last") == 0) {
		rc = name[0] == 'f' ? kiln_qs_first(qs, &r) :
				      kiln_qs_last(qs, &r);
		if (rc == KILN_OK) {
			if (r == NULL)
				printf("None\n");
			else
				printf("%lld\n", (long long)kiln_row_pk(r));
		}
	} else if (strcmp(name, "get") == 0) {
		rc = kiln_qs_get(qs, &r);
		if (rc == KILN_OK)
			printf("%lld\n", (long long)kiln_row_pk(r));
		else if (rc == KILN_ENOTFOUND)
			printf("DoesNotExist\n");
		else if (rc == KILN_ELIMIT)
			printf("MultipleObjectsReturned\n");
		if (rc == KILN_ENOTFOUND || rc == KILN_ELIMIT)
			rc = KILN_OK;
	} else if (strcmp(name, "agg") == 0) {
		for (k = 0; k < 5; k++)
			if (strcmp(str_at(t, 1), aggs[k]) == 0)
				break;
		rc = kiln_qs_aggregate(qs, (kiln_agg)k, str_at(t, 2), &v);
		if (rc == KILN_OK) {
			print_val(v);
			printf("\n");
		}
	} else if (strcmp(name, "annvals") == 0) {
		/* Each row's key and annotation: [(1, 2), ...]. */
		if ((rc = kiln_qs_all(qs, &rows, &n)) == KILN_OK) {
			printf("[");
			for (i = 0; i < n; i++) {
				printf("%s(%lld, ", i > 0 ? ", " : "",
				    (long long)kiln_row_pk(rows[i]));
				print_val(kiln_row_get(rows[i], str_at(t, 1)));
				printf(")");
			}
			printf("]\n");
		}
	} else if (strcmp(name, "values") == 0) {
		if (kiln_val_len(t) == 2)
			rc = kiln_qs_values_list(qs, &v, str_at(t, 1), NULL);
		else
			rc = kiln_qs_values_list(qs, &v, str_at(t, 1),
			    str_at(t, 2), NULL);
		if (rc == KILN_OK) {
			printf("[");
			for (i = 0; i < kiln_val_len(v); i++) {
				item = kiln_val_at(v, i);
				printf("%s(", i > 0 ? ", " : "");
				for (k = 0; k < kiln_val_len(item); k++) {
					if (k > 0)
						printf(", ");
					print_val(kiln_val_at(item, k));
				}
				printf(kiln_val_len(item) == 1 ? ",)" : ")");
			}
			printf("]\n");
		}
	} else {
		printf("error\n");
		return;
	}
	/* Only "error": Django names an exception, Kiln has a message. */
	if (rc != KILN_OK) {
		printf("error\n");
		fprintf(stderr, "kiln_diff: %s\n", kiln_app_errmsg(app));
	}
}

static int
run(kiln_app *app, kiln_arena *a, const char *path)
{
	char line[4096];
	kiln_val *ops;
	kiln_qs *qs;
	FILE *f;
	size_t i, n;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		kiln_arena_reset(a);
		ops = kiln_json_parse(a, kiln_str_c(line), 0, NULL, 0);
		if (ops == NULL || ops->type != KILN_VAL_LIST ||
		    (n = kiln_val_len(ops)) == 0) {
			printf("error\n");
			continue;
		}
		qs = kiln_qs_new(app, a, &Post);
		if (str_at(kiln_val_at(ops, 0), 0) != NULL &&
		    strcmp(str_at(kiln_val_at(ops, 0), 0), "authors") == 0)
			qs = kiln_qs_new(app, a, &Author);
		if (str_at(kiln_val_at(ops, 0), 0) != NULL &&
		    strcmp(str_at(kiln_val_at(ops, 0), 0), "tags") == 0)
			qs = kiln_qs_new(app, a, &Tag);
		for (i = 0; i + 1 < n; i++) {
			if (strcmp(str_at(kiln_val_at(ops, i), 0), "authors") ==
				0 ||
			    strcmp(str_at(kiln_val_at(ops, i), 0), "tags") == 0)
				continue;
			if (!apply(app, a, &qs, kiln_val_at(ops, i)))
				break;
		}
		if (i + 1 < n) {
			printf("error\n");
			continue;
		}
		terminal(app, qs, kiln_val_at(ops, n - 1));
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	kiln_app *app;
	kiln_arena *a;
	char url[1100];
	int rc;

	if (argc < 3 ||
	    (strcmp(argv[1], "seed") != 0 &&
		(strcmp(argv[1], "run") != 0 || argc != 4))) {
		fprintf(stderr, "usage: kiln_diff seed DB | run DB CORPUS\n");
		return 2;
	}
	snprintf(url, sizeof(url), "sqlite:%s", argv[2]);
	if ((app = kiln_app_new("diff")) == NULL ||
	    (a = kiln_arena_new(0)) == NULL)
		return 1;
	if (kiln_use(app, &kiln_db) != KILN_OK ||
	    kiln_setting_set(app, "database.url", url) != KILN_OK ||
	    kiln_app_configure(app, NULL) != KILN_OK ||
	    kiln_model_register(app, &Author) != KILN_OK ||
	    kiln_model_register(app, &Tag) != KILN_OK ||
	    kiln_model_register(app, &Post) != KILN_OK)
		return die(app, "setup");
	rc = argv[1][0] == 's' ? seed(app, a) : run(app, a, argv[3]);
	kiln_arena_free(a);
	kiln_app_free(app);
	return rc;
}
