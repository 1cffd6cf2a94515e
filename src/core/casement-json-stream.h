/* casement-json-stream.h
 *
 * Copyright 2026 The Casement authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The transport under CasementQmpClient and CasementGuestAgent: a stream
 * socket carrying one JSON message per '\n'-ended line. It reads lines as
 * they come, writes in order, and reports once how the stream ended.
 * Parsing (casement_qmp_parse_line()) stays with each protocol, which
 * treats a bad line, or the guest agent's 0xFF sentinel, its own way. */

typedef enum
{
  CASEMENT_JSON_STREAM_STATE_DISCONNECTED = 0,
  CASEMENT_JSON_STREAM_STATE_CONNECTING,
  CASEMENT_JSON_STREAM_STATE_OPEN,
  CASEMENT_JSON_STREAM_STATE_CLOSED,      /* ended or closed; a stream is not reused */
} CasementJsonStreamState;

#define CASEMENT_TYPE_JSON_STREAM (casement_json_stream_get_type ())

G_DECLARE_FINAL_TYPE (CasementJsonStream, casement_json_stream, CASEMENT, JSON_STREAM, GObject)

CasementJsonStream      *casement_json_stream_new       (void);
CasementJsonStreamState  casement_json_stream_get_state (CasementJsonStream *self);
/* Connects to a unix socket in the background; a failure ends the
 * stream ("closed"), at once for a path no unix socket can hold. */
void                     casement_json_stream_connect   (CasementJsonStream *self,
                                                         const char         *socket_path);
/* Uses an already connected @stream (a socketpair in tests), and closes
 * it when it closes. */
void                     casement_json_stream_open      (CasementJsonStream *self,
                                                         GIOStream          *stream);
/* Queues @bytes (transfer none) after what is queued already; until the
 * stream is open they wait, once it is closed they are dropped. */
void                     casement_json_stream_write     (CasementJsonStream *self,
                                                         GBytes             *bytes);
/* Idempotent; stops all I/O and emits nothing: the caller knows. */
void                     casement_json_stream_close     (CasementJsonStream *self);

/* Signals:
 *   "line"    (GBytes *line) a line as read, without its '\n' (a '\r'
 *             before it stays); any bytes.
 *   "closed"  (const GError *reason) once, when the stream ends by itself:
 *             G_IO_ERROR_CONNECTION_CLOSED when the peer closed or reset
 *             it, else why it could not connect, read or write.
 */

G_END_DECLS
