/* casement-guest-agent.h
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

/* A client of QEMU's guest agent (qemu-ga, installed in Windows by
 * virtio-win-guest-tools) over the VM's qga.sock. The agent speaks QMP's
 * wire format without greeting, ids or events: one reply per command, in
 * order. Its absence is normal (not installed yet, booting, Setup), and
 * then nothing answers: QEMU accepts the connection whether or not an
 * agent listens in the guest, so every wait has a timeout. */

#define CASEMENT_GUEST_AGENT_ERROR (casement_guest_agent_error_quark ())

typedef enum
{
  CASEMENT_GUEST_AGENT_ERROR_TIMEOUT = 1,   /* no (matching) reply in time: no agent runs, or it hangs */
  CASEMENT_GUEST_AGENT_ERROR_DISCONNECTED,  /* the socket closed (QEMU ended) */
  CASEMENT_GUEST_AGENT_ERROR_PROTOCOL,      /* a reply that is not QMP's wire format */
} CasementGuestAgentError;

typedef enum
{
  CASEMENT_GUEST_AGENT_STATE_DISCONNECTED = 0,
  CASEMENT_GUEST_AGENT_STATE_CONNECTING,   /* connecting, then guest-sync-delimited */
  CASEMENT_GUEST_AGENT_STATE_READY,
  CASEMENT_GUEST_AGENT_STATE_CLOSED,       /* after an error, timeout, cancel or close; not reused */
} CasementGuestAgentState;

/* How long a reply may take by default, in milliseconds. */
#define CASEMENT_GUEST_AGENT_DEFAULT_TIMEOUT_MS 5000

#define CASEMENT_TYPE_GUEST_AGENT (casement_guest_agent_get_type ())

G_DECLARE_FINAL_TYPE (CasementGuestAgent, casement_guest_agent, CASEMENT, GUEST_AGENT, GObject)

GQuark                   casement_guest_agent_error_quark   (void) G_GNUC_CONST;

CasementGuestAgent      *casement_guest_agent_new           (void);
CasementGuestAgentState  casement_guest_agent_get_state     (CasementGuestAgent   *self);
/* The time each reply (the sync's included) may take; set before use. */
guint                    casement_guest_agent_get_timeout   (CasementGuestAgent   *self);
void                     casement_guest_agent_set_timeout   (CasementGuestAgent   *self,
                                                             guint                 timeout_ms);

/* Connects to @socket_path (QEMU's chardev for org.qemu.guest_agent.0)
 * and syncs with guest-sync-delimited, which skips whatever an earlier
 * client left unread. Fails with TIMEOUT when no agent answers. */
void                     casement_guest_agent_connect_async (CasementGuestAgent   *self,
                                                             const char           *socket_path,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
gboolean                 casement_guest_agent_connect_finish (CasementGuestAgent  *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);

/* Runs @command with @arguments (a JSON object or NULL, transfer none);
 * one command at a time (a second one meanwhile fails with
 * G_IO_ERROR_PENDING). Returns the reply's "return" member; the agent's
 * own refusal is CASEMENT_QMP_ERROR_COMMAND_FAILED with its "desc" and
 * "class", and leaves the connection usable. A timeout or cancellation
 * closes it: a late reply could not be told from the next one's. */
void                     casement_guest_agent_execute_async (CasementGuestAgent   *self,
                                                             const char           *command,
                                                             JsonNode             *arguments,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
JsonNode                *casement_guest_agent_execute_finish (CasementGuestAgent  *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);

/* Idempotent; what is in flight fails with DISCONNECTED. */
void                     casement_guest_agent_close         (CasementGuestAgent   *self);

G_END_DECLS
