/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * kiln_strerror(), generated from KILN_ERRNO_MAP, and kiln__panic().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <kiln/common.h>

#include "kiln_int.h"

#define ERR_MSG(name, msg) msg,
static const char *const err_msgs[] = { KILN_ERRNO_MAP(ERR_MSG) };
#undef ERR_MSG

const char *
kiln_strerror(kiln_err rc)
{
	if ((unsigned)rc >= KILN_ERR__MAX)
		return "unknown error";
	return err_msgs[rc];
}

void
kiln__panic(const char *file, int line, const char *msg)
{
	fprintf(stderr, "kiln: panic at %s:%d: %s\n", file, line, msg);
	abort();
}
