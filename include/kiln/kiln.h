/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Includes every public Kiln header. Applications include this one.
 */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include <kiln/app.h>
#include <kiln/arena.h>
#include <kiln/client.h>
#include <kiln/common.h>
#include <kiln/db.h>
#include <kiln/ext.h>
#include <kiln/kv.h>
#include <kiln/orm.h>
#include <kiln/request.h>
#include <kiln/response.h>
#include <kiln/settings.h>
#include <kiln/signal.h>
#include <kiln/template.h>
#include <kiln/value.h>

#endif /* KILN_KILN_H */
