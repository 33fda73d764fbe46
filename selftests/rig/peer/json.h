/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal JSON scanning, enough for QMP's replies and events, and escaping
 * for the commands sent to it (json.c). Values are found in place, in the
 * text of one line; nothing is allocated.
 */
#ifndef VPORTX_PEER_JSON_H
#define VPORTX_PEER_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* The value of key in the object at obj (top level only), or NULL. */
const char *json_member(const char *obj, const char *key);

/* Copy the string value at v, unescaped, truncated to fit. */
bool json_string(const char *v, char *out, size_t size);

bool json_true(const char *v);

/* Escape src as the inside of a JSON string. */
void json_escape(char *dst, size_t size, const char *src);

#endif
