/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Declares every suite listed in suites.def. Each test_<module>.c
 * includes this, so its suite function has a prototype.
 */
#ifndef KILN_TEST_SUITES_H
#define KILN_TEST_SUITES_H

#include <check.h>

#define KILN_SUITE(name) Suite *name##_suite(void);
#include "suites.def"
#undef KILN_SUITE

#endif /* KILN_TEST_SUITES_H */
