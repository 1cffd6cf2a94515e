/* casement-qmp-client.h
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
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CASEMENT_QMP_ERROR (casement_qmp_error_quark ())

typedef enum
{
  CASEMENT_QMP_ERROR_PROTOCOL = 1,   /* the peer does not speak QMP as expected */
  CASEMENT_QMP_ERROR_COMMAND_FAILED, /* QEMU answered {"error": …}; message is its "desc",
                                      * casement_qmp_error_get_qmp_class() its "class" */
  CASEMENT_QMP_ERROR_DISCONNECTED,   /* the socket closed before the reply came */
} CasementQmpError;

typedef enum
{
  CASEMENT_QMP_STATE_DISCONNECTED = 0,
  CASEMENT_QMP_STATE_CONNECTING,     /* waiting for the greeting / capabilities reply */
  CASEMENT_QMP_STATE_READY,
  CASEMENT_QMP_STATE_CLOSED,         /* the peer went away; a client is not reused */
} CasementQmpState;

#define CASEMENT_TYPE_QMP_CLIENT (casement_qmp_client_get_type ())

G_DECLARE_FINAL_TYPE (CasementQmpClient, casement_qmp_client, CASEMENT, QMP_CLIENT, GObject)

GQuark              casement_qmp_error_quark                (void) G_GNUC_CONST;
const char         *casement_qmp_error_get_qmp_class        (const GError         *error);

CasementQmpClient  *casement_qmp_client_new                 (void);
CasementQmpState    casement_qmp_client_get_state           (CasementQmpClient    *self);

/* Greeting's QEMU version; zeros until the greeting has been read. */
void                casement_qmp_client_get_qemu_version    (CasementQmpClient    *self,
                                                             guint                *major,
                                                             guint                *minor,
                                                             guint                *micro);

/* Connects to a unix socket, reads the greeting and negotiates capabilities. */
void                casement_qmp_client_connect_async       (CasementQmpClient    *self,
                                                             const char           *socket_path,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
gboolean            casement_qmp_client_connect_finish      (CasementQmpClient    *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);

/* Same, over an already connected stream (a socketpair in tests). The
 * client closes @stream when it closes. */
void                casement_qmp_client_connect_stream_async  (CasementQmpClient    *self,
                                                               GIOStream            *stream,
                                                               GCancellable         *cancellable,
                                                               GAsyncReadyCallback   callback,
                                                               gpointer              user_data);
gboolean            casement_qmp_client_connect_stream_finish (CasementQmpClient    *self,
                                                               GAsyncResult         *result,
                                                               GError              **error);

/* Sends {"execute": @command, "arguments": @arguments, "id": …}. @arguments
 * is a JSON object or NULL (transfer none). The reply's "return" member is
 * returned (transfer full), or an error with QEMU's "desc". Cancelling
 * abandons the reply only: a command already queued is still sent. */
void                casement_qmp_client_execute_async       (CasementQmpClient    *self,
                                                             const char           *command,
                                                             JsonNode             *arguments,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
JsonNode           *casement_qmp_client_execute_finish      (CasementQmpClient    *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);

/* The wire format QEMU's monitor shares with its guest agent (which
 * CasementGuestAgent speaks): one JSON object per line, commands with
 * "execute", replies with "return" or "error". Parsing a blank line gives
 * TRUE and a NULL @message. */
gboolean            casement_qmp_parse_line                 (const char           *line,
                                                             gsize                 length,
                                                             JsonNode            **message,
                                                             GError              **error);
GBytes             *casement_qmp_command_line               (const char           *command,
                                                             JsonNode             *arguments,
                                                             gint64                id);
JsonNode           *casement_qmp_reply_take_return          (JsonObject           *reply,
                                                             const char           *command,
                                                             GError              **error);

/* Idempotent; pending commands fail with DISCONNECTED. */
void                casement_qmp_client_close               (CasementQmpClient    *self);

/* Signals:
 *   "event"   (const char *name, JsonObject *data (nullable), gint64 timestamp_usec)
 *             detailed by the event name, e.g. "event::SHUTDOWN".
 *   "closed"  (const GError *reason (nullable: NULL after casement_qmp_client_close()))
 *             emitted once, when the state becomes CLOSED; an end of stream
 *             from QEMU (e.g. after "quit") is a DISCONNECTED reason.
 */

G_END_DECLS
