/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Generic views over models (Django's ListView and DetailView), as
 * helpers a view calls with a static const description: a route takes a
 * bare function, so the description is the function's own. A list is
 * paginated by ?page=N ("last" is the last page); a page that does not
 * exist, or a row that does not, is a 404. Templates default to
 * "<app_label>/<model>_list.html" and "<app_label>/<model>_detail.html"
 * in lower case, as in Django.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <kiln/kiln.h>

#include "orm_int.h"

/* Returns "<app>/<model><suffix>" in lower case, in a. */
static const char *
default_template(kiln_arena *a, const kiln_model *m, const char *suffix)
{
	char *s = kiln_arena_printf(a, "%s/%s%s",
	    m->app_label != NULL ? m->app_label : "", m->name, suffix);
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Returns the model's name in lower case with suffix, in a. */
static const char *
default_name(kiln_arena *a, const kiln_model *m, const char *suffix)
{
	char *s = kiln_arena_printf(a, "%s%s", m->name, suffix);
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Sets key in map to v, aborting with 500 when memory runs out. */
static void
put(kiln_req *req, kiln_val *map, const char *key, kiln_val *v)
{
	if (v == NULL || kiln_val_set(map, key, v) != KILN_OK)
		kiln_abort_msg(req, 500, "out of memory");
}

/* The page asked for: ?page=N or ?page=last (1 when absent); 404 if bad. */
static int64_t
page_number(kiln_req *req, int64_t pages)
{
	const kiln_str *p = kiln_req_arg(req, "page");
	int64_t n;

	if (p == NULL)
		return 1;
	if (kiln_str_eq_c(*p, "last"))
		return pages;
	if (kiln_str_to_i64(*p, &n) != KILN_OK || n < 1 || n > pages)
		kiln_abort_msg(req, 404, "invalid page");
	return n;
}

/* Builds page_obj for page n of pages over count rows of size per. */
static kiln_val *
page_obj(kiln_req *req, int64_t n, int64_t pages, int64_t count, int64_t per)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *p = kiln_val_map(a);

	if (p == NULL)
		kiln_abort_msg(req, 500, "out of memory");
	put(req, p, "number", kiln_val_int(a, n));
	put(req, p, "num_pages", kiln_val_int(a, pages));
	put(req, p, "count", kiln_val_int(a, count));
	put(req, p, "has_next", kiln_val_bool(a, n < pages));
	put(req, p, "has_previous", kiln_val_bool(a, n > 1));
	put(req, p, "has_other_pages", kiln_val_bool(a, pages > 1));
	put(req, p, "next_page_number",
	    n < pages ? kiln_val_int(a, n + 1) : kiln_val_null(a));
	put(req, p, "previous_page_number",
	    n > 1 ? kiln_val_int(a, n - 1) : kiln_val_null(a));
	put(req, p, "start_index",
	    kiln_val_int(a, count == 0 ? 0 : (n - 1) * per + 1));
	put(req, p, "end_index",
	    kiln_val_int(a, n * per < count ? n * per : count));
	return p;
}

kiln_resp *
kiln_render_list(kiln_req *req, const kiln_list_view *v)
{
	kiln_arena *a = kiln_req_arena(req);
	kiln_val *ctx, *list;
	kiln_row **rows;
	kiln_qs *qs;
	int64_t count = 0, pages = 1, n = 1, per = (int64_t)v->paginate_by;
	size_t i, nrows;

	qs = v->queryset != NULL ? v->queryset(req) :
				   kiln_objects(req, v->model);
	if (per > 0) {
		if (kiln_qs_count(qs, &count) != KILN_OK)
			kiln_abort_msg(req, 500, "%s",
			    kiln_app_errmsg(kiln_req_app(req)));
		pages = count == 0 ? 1 : (count + per - 1) / per;
		n = page_number(req, pages);
		qs = kiln_qs_slice(qs, (n - 1) * per, n * per);
	}
	if (kiln_qs_all(qs, &rows, &nrows) != KILN_OK)
		kiln_abort_msg(req, 500, "%s",
		    kiln_app_errmsg(kiln_req_app(req)));
	if ((ctx = kiln_val_map(a)) == NULL ||
	    (list = kiln_val_list(a)) == NULL)
		kiln_abort_msg(req, 500, "out of memory");
	for (i = 0; i < nrows; i++)
		if (kiln_val_push(list, kiln_row_val(rows[i])) != KILN_OK)
			kiln_abort_msg(req, 500, "out of memory");
	put(req, ctx, "object_list", list);
	put(req, ctx,
	    v->context_name != NULL ? v->context_name :
				      default_name(a, v->model, "_list"),
	    list);
	put(req, ctx, "is_paginated", kiln_val_bool(a, per > 0 && pages > 1));
	if (per > 0)
		put(req, ctx, "page_obj", page_obj(req, n, pages, count, per));
	return kiln_render(req,
	    v->template_name != NULL ?
		v->template_name :
		default_template(a, v->model, "_list.html"),
	    ctx);
}

kiln_resp *
kiln_render_detail(kiln_req *req, const kiln_detail_view *v)
{
	kiln_arena *a = kiln_req_arena(req);
	const char *slug_arg = v->slug_arg, *pk_arg = v->pk_arg;
	const kiln_str *arg;
	kiln_val *ctx, *obj;
	kiln_row *row;
	kiln_qs *qs;
	int64_t pk;

	qs = v->queryset != NULL ? v->queryset(req) :
				   kiln_objects(req, v->model);
	if (slug_arg != NULL && (arg = kiln_arg(req, slug_arg)) != NULL) {
		qs = kiln_qs_filter(qs,
		    v->slug_field != NULL ? v->slug_field : "slug",
		    kiln_val_str(a, *arg));
	} else if ((arg = kiln_arg(req, pk_arg != NULL ? pk_arg : "pk")) !=
	    NULL) {
		if (kiln_str_to_i64(*arg, &pk) != KILN_OK)
			kiln_abort_msg(req, 404, "no such %s", v->model->name);
		qs = kiln_qs_filter_i(qs, "pk", pk);
	} else {
		kiln_abort_msg(req, 500,
		    "detail view of %s: the route has no '%s' argument",
		    v->model->name,
		    slug_arg != NULL   ? slug_arg :
			pk_arg != NULL ? pk_arg :
					 "pk");
	}
	row = kiln_get_or_404(req, qs);
	if ((ctx = kiln_val_map(a)) == NULL ||
	    (obj = kiln_row_val(row)) == NULL)
		kiln_abort_msg(req, 500, "out of memory");
	put(req, ctx, "object", obj);
	put(req, ctx,
	    v->context_name != NULL ? v->context_name :
				      default_name(a, v->model, ""),
	    obj);
	return kiln_render(req,
	    v->template_name != NULL ?
		v->template_name :
		default_template(a, v->model, "_detail.html"),
	    ctx);
}
