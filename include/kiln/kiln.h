/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Includes every public Kiln header. Applications include this one.
 */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include <kiln/common.h>
#include <kiln/arena.h>
#include <kiln/kv.h>
#include <kiln/value.h>
#include <kiln/app.h>
#include <kiln/settings.h>
#include <kiln/ext.h>
#include <kiln/signal.h>
#include <kiln/request.h>
#include <kiln/response.h>
#include <kiln/client.h>
#include <kiln/template.h>
#include <kiln/db.h>
#include <kiln/orm.h>

#endif /* KILN_KILN_H */
