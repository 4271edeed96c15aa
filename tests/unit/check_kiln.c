/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Runs every Check suite listed in suites.def, forked (one process per
 * test), and prints Check's summary line. Exits non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(NULL);
#define KILN_SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.def"
#undef KILN_SUITE
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	printf("check_kiln: %d tests run, %d failed\n", srunner_ntests_run(sr),
	    failed);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
