// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the tracepoints of ephport_trace.h, defined here once; the
 * hooks (hooks.c) fire them.
 */
#define CREATE_TRACE_POINTS
#include "ephport_trace.h"
