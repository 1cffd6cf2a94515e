/* casement-guest-agent.c
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

#define G_LOG_DOMAIN "casement-guest-agent"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "casement-enums.h"
#include "casement-guest-agent.h"
#include "casement-json-stream.h"
#include "casement-qmp-client.h"

/* Precedes guest-sync-delimited's reply; sent by us first, it makes the
 * agent's parser drop whatever an earlier client left half-written. */
#define SENTINEL '\xff'

struct _CasementGuestAgent
{
  GObject                  parent_instance;

  /* Owned references */
  CasementJsonStream      *stream;
  GTask                   *task;            /* the connect or command in flight */
  GSource                 *timeout_source;
  GSource                 *cancel_source;

  char                    *socket_path;
  char                    *command;         /* the one in flight, for messages */
  gint64                   sync_id;
  guint                    timeout_ms;
  CasementGuestAgentState  state;

  guint                    sentinel_seen : 1;
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_TIMEOUT,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (CasementGuestAgent, casement_guest_agent, G_TYPE_OBJECT)
G_DEFINE_QUARK (casement-guest-agent-error-quark, casement_guest_agent_error)

static GParamSpec *properties[N_PROPS];

static void
casement_guest_agent_set_state (CasementGuestAgent      *self,
                                CasementGuestAgentState  state)
{
  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Detaches the operation in flight from its timeout and cancellable;
 * returns it (owned) for completing. */
static GTask *
casement_guest_agent_end_operation (CasementGuestAgent *self)
{
  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  if (self->timeout_source != NULL)
    g_source_destroy (self->timeout_source);
  g_clear_pointer (&self->timeout_source, g_source_unref);
  if (self->cancel_source != NULL)
    g_source_destroy (self->cancel_source);
  g_clear_pointer (&self->cancel_source, g_source_unref);
  g_clear_pointer (&self->command, g_free);

  return g_steal_pointer (&self->task);
}

/* Every way the connection ends comes here: the state becomes CLOSED and
 * the operation in flight fails with @reason (or DISCONNECTED). */
static void
casement_guest_agent_teardown (CasementGuestAgent *self,
                               GError             *reason)
{
  g_autoptr(CasementGuestAgent) hold = NULL;
  g_autoptr(GError) owned_reason = reason;
  g_autoptr(GTask) task = NULL;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  if (self->state == CASEMENT_GUEST_AGENT_STATE_CLOSED)
    return;

  /* The task's callback may drop the last reference. */
  hold = g_object_ref (self);

  g_debug ("Guest agent connection closing: %s", reason ? reason->message : "closed by us");

  if (self->stream != NULL)
    casement_json_stream_close (self->stream);

  task = casement_guest_agent_end_operation (self);
  casement_guest_agent_set_state (self, CASEMENT_GUEST_AGENT_STATE_CLOSED);

  if (task == NULL)
    return;

  if (owned_reason != NULL)
    g_task_return_error (task, g_steal_pointer (&owned_reason));
  else
    g_task_return_new_error (task, CASEMENT_GUEST_AGENT_ERROR,
                             CASEMENT_GUEST_AGENT_ERROR_DISCONNECTED,
                             _("The connection to the guest agent was closed"));
}

static gboolean
casement_guest_agent_timeout_cb (gpointer user_data)
{
  CasementGuestAgent *self = user_data;
  GError *error;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  if (self->state == CASEMENT_GUEST_AGENT_STATE_CONNECTING)
    error = g_error_new (CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_TIMEOUT,
                         _("No guest agent answered on “%s” within %u ms: it is not running "
                           "in the guest (yet); it comes with the virtio-win guest tools"),
                         self->socket_path, self->timeout_ms);
  else
    error = g_error_new (CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_TIMEOUT,
                         _("The guest agent did not answer “%s” within %u ms"),
                         self->command, self->timeout_ms);

  casement_guest_agent_teardown (self, error);
  return G_SOURCE_REMOVE;
}

static gboolean
casement_guest_agent_cancelled_cb (GCancellable *cancellable,
                                   gpointer      user_data)
{
  CasementGuestAgent *self = user_data;
  GError *error = NULL;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  casement_guest_agent_teardown (self, error);
  return G_SOURCE_REMOVE;
}

/* Makes @task (owned) the operation in flight, with its timeout. The
 * sources are destroyed with the operation, and the task holds a
 * reference on self: borrowing self is safe. */
static void
casement_guest_agent_begin_operation (CasementGuestAgent *self,
                                      GTask              *task,
                                      const char         *command)
{
  GCancellable *cancellable;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));
  g_assert (G_IS_TASK (task));
  g_assert (self->task == NULL);

  self->task = task;
  self->command = g_strdup (command);

  self->timeout_source = g_timeout_source_new (self->timeout_ms);
  g_source_set_static_name (self->timeout_source, "[casement-guest-agent-timeout]");
  g_source_set_callback (self->timeout_source, casement_guest_agent_timeout_cb, self, NULL);
  g_source_attach (self->timeout_source, g_task_get_context (task));

  if ((cancellable = g_task_get_cancellable (task)) != NULL)
    {
      self->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (self->cancel_source, "[casement-guest-agent-cancel]");
      g_source_set_callback (self->cancel_source,
                             G_SOURCE_FUNC (casement_guest_agent_cancelled_cb),
                             self, NULL);
      g_source_attach (self->cancel_source, g_task_get_context (task));
    }
}

static void
casement_guest_agent_stream_closed_cb (CasementGuestAgent *self,
                                       const GError       *reason)
{
  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  /* Any other reason names the socket already. */
  if (g_error_matches (reason, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    casement_guest_agent_teardown (self,
                                   g_error_new_literal (CASEMENT_GUEST_AGENT_ERROR,
                                                        CASEMENT_GUEST_AGENT_ERROR_DISCONNECTED,
                                                        _("QEMU closed the guest agent connection")));
  else
    casement_guest_agent_teardown (self, g_error_copy (reason));
}

/* While syncing: everything up to the sentinel is an earlier client's,
 * and so is any reply but the one with our id. */
static void
casement_guest_agent_handle_sync_line (CasementGuestAgent *self,
                                       const char         *line,
                                       gsize               length)
{
  g_autoptr(JsonNode) message = NULL;
  g_autoptr(JsonNode) ret = NULL;
  const char *sentinel;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  if ((sentinel = memrchr (line, SENTINEL, length)))
    {
      self->sentinel_seen = TRUE;
      length -= sentinel + 1 - line;
      line = sentinel + 1;
    }

  if (self->sentinel_seen &&
      casement_qmp_parse_line (line, length, &message, NULL) && message != NULL &&
      (ret = casement_qmp_reply_take_return (json_node_get_object (message), "guest-sync-delimited", NULL)) &&
      json_node_get_value_type (ret) == G_TYPE_INT64 &&
      json_node_get_int (ret) == self->sync_id)
    {
      g_autoptr(GTask) task = casement_guest_agent_end_operation (self);

      casement_guest_agent_set_state (self, CASEMENT_GUEST_AGENT_STATE_READY);
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_debug ("Skipping a stale line from the guest agent");
}

static void
casement_guest_agent_handle_reply_line (CasementGuestAgent *self,
                                        const char         *line,
                                        gsize               length)
{
  g_autoptr(JsonNode) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  JsonNode *ret;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));
  g_assert (self->command != NULL);

  if (!casement_qmp_parse_line (line, length, &message, &error))
    {
      casement_guest_agent_teardown (self,
                                     g_error_new (CASEMENT_GUEST_AGENT_ERROR,
                                                  CASEMENT_GUEST_AGENT_ERROR_PROTOCOL,
                                                  _("The guest agent’s reply to “%s” is not "
                                                    "a JSON object: %s"),
                                                  self->command, error->message));
      return;
    }

  if (message == NULL)
    return;

  ret = casement_qmp_reply_take_return (json_node_get_object (message), self->command, &error);
  task = casement_guest_agent_end_operation (self);
  if (ret != NULL)
    g_task_return_pointer (task, ret, (GDestroyNotify) json_node_unref);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
casement_guest_agent_handle_line (CasementGuestAgent *self,
                                  GBytes             *line)
{
  const char *data;
  gsize length;

  g_assert (CASEMENT_IS_GUEST_AGENT (self));

  data = g_bytes_get_data (line, &length);
  if (length == 0)
    return;

  if (self->state == CASEMENT_GUEST_AGENT_STATE_CONNECTING)
    casement_guest_agent_handle_sync_line (self, data, length);
  else if (self->task != NULL)
    casement_guest_agent_handle_reply_line (self, data, length);
  else
    g_debug ("Skipping a line from the guest agent while no command runs");
}

/* Sends one command line (@prefix_sentinel: preceded by the sentinel);
 * its reply comes as a line. */
static void
casement_guest_agent_send (CasementGuestAgent *self,
                           const char         *command,
                           JsonNode           *arguments,
                           gboolean            prefix_sentinel)
{
  static const char sentinel[] = { SENTINEL };
  g_autoptr(GBytes) sentinel_bytes = g_bytes_new_static (sentinel, sizeof sentinel);
  g_autoptr(GBytes) line = casement_qmp_command_line (command, arguments, 0);

  g_assert (CASEMENT_IS_GUEST_AGENT (self));
  g_assert (self->stream != NULL);
  g_assert (self->task != NULL);

  if (prefix_sentinel)
    casement_json_stream_write (self->stream, sentinel_bytes);
  casement_json_stream_write (self->stream, line);
}

/**
 * casement_guest_agent_connect_async:
 * @self: a #CasementGuestAgent in state %CASEMENT_GUEST_AGENT_STATE_DISCONNECTED
 * @socket_path: the VM's qga.sock
 * @cancellable: (nullable): cancels the attempt (and closes the client)
 * @callback: called once the agent answered the sync, or not
 * @user_data: data for @callback
 */
void
casement_guest_agent_connect_async (CasementGuestAgent  *self,
                                    const char          *socket_path,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) arguments = NULL;

  g_return_if_fail (CASEMENT_IS_GUEST_AGENT (self));
  g_return_if_fail (socket_path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->state == CASEMENT_GUEST_AGENT_STATE_DISCONNECTED);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_guest_agent_connect_async);

  self->socket_path = g_strdup (socket_path);
  self->sentinel_seen = FALSE;
  casement_guest_agent_set_state (self, CASEMENT_GUEST_AGENT_STATE_CONNECTING);
  casement_guest_agent_begin_operation (self, g_steal_pointer (&task), "guest-sync-delimited");

  self->stream = casement_json_stream_new ();
  g_signal_connect_object (self->stream, "line", G_CALLBACK (casement_guest_agent_handle_line),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stream, "closed", G_CALLBACK (casement_guest_agent_stream_closed_cb),
                           self, G_CONNECT_SWAPPED);

  /* The id tells our sync's reply from one a former client asked for.
   * Queued before connecting: a path that cannot connect fails at once. */
  self->sync_id = g_random_int_range (1, G_MAXINT32);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, self->sync_id);
  json_builder_end_object (builder);
  arguments = json_builder_get_root (builder);
  casement_guest_agent_send (self, "guest-sync-delimited", arguments, TRUE);

  casement_json_stream_connect (self->stream, socket_path);
}

gboolean
casement_guest_agent_connect_finish (CasementGuestAgent  *self,
                                     GAsyncResult        *result,
                                     GError             **error)
{
  g_return_val_if_fail (CASEMENT_IS_GUEST_AGENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        casement_guest_agent_connect_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * casement_guest_agent_execute_async:
 * @self: a #CasementGuestAgent
 * @command: a guest agent command, e.g. "guest-file-open"
 * @arguments: (nullable) (transfer none): a JSON object of arguments
 * @cancellable: (nullable): abandons the reply and closes the connection
 * @callback: called with the reply
 * @user_data: data for @callback
 */
void
casement_guest_agent_execute_async (CasementGuestAgent  *self,
                                    const char          *command,
                                    JsonNode            *arguments,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_GUEST_AGENT (self));
  g_return_if_fail (command != NULL);
  g_return_if_fail (arguments == NULL || JSON_NODE_HOLDS_OBJECT (arguments));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_guest_agent_execute_async);

  if (self->state != CASEMENT_GUEST_AGENT_STATE_READY)
    {
      g_task_return_new_error (task, CASEMENT_GUEST_AGENT_ERROR,
                               CASEMENT_GUEST_AGENT_ERROR_DISCONNECTED,
                               _("Cannot send “%s” to the guest agent: the connection is not open"),
                               command);
      return;
    }

  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("Cannot send “%s” to the guest agent while it runs “%s”"),
                               command, self->command);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  casement_guest_agent_begin_operation (self, g_steal_pointer (&task), command);
  casement_guest_agent_send (self, command, arguments, FALSE);
}

/**
 * casement_guest_agent_execute_finish:
 *
 * Returns: (transfer full): the reply's "return" member
 */
JsonNode *
casement_guest_agent_execute_finish (CasementGuestAgent  *self,
                                     GAsyncResult        *result,
                                     GError             **error)
{
  g_return_val_if_fail (CASEMENT_IS_GUEST_AGENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        casement_guest_agent_execute_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
casement_guest_agent_close (CasementGuestAgent *self)
{
  g_return_if_fail (CASEMENT_IS_GUEST_AGENT (self));

  casement_guest_agent_teardown (self, NULL);
}

CasementGuestAgentState
casement_guest_agent_get_state (CasementGuestAgent *self)
{
  g_return_val_if_fail (CASEMENT_IS_GUEST_AGENT (self), CASEMENT_GUEST_AGENT_STATE_DISCONNECTED);

  return self->state;
}

guint
casement_guest_agent_get_timeout (CasementGuestAgent *self)
{
  g_return_val_if_fail (CASEMENT_IS_GUEST_AGENT (self), 0);

  return self->timeout_ms;
}

void
casement_guest_agent_set_timeout (CasementGuestAgent *self,
                                  guint               timeout_ms)
{
  g_return_if_fail (CASEMENT_IS_GUEST_AGENT (self));
  g_return_if_fail (timeout_ms > 0);

  if (self->timeout_ms == timeout_ms)
    return;

  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

CasementGuestAgent *
casement_guest_agent_new (void)
{
  return g_object_new (CASEMENT_TYPE_GUEST_AGENT, NULL);
}

static void
casement_guest_agent_dispose (GObject *object)
{
  CasementGuestAgent *self = (CasementGuestAgent *) object;

  /* An operation in flight holds a reference on self. */
  g_assert (self->task == NULL);

  g_clear_object (&self->stream);

  G_OBJECT_CLASS (casement_guest_agent_parent_class)->dispose (object);
}

static void
casement_guest_agent_finalize (GObject *object)
{
  CasementGuestAgent *self = (CasementGuestAgent *) object;

  g_free (self->socket_path);

  G_OBJECT_CLASS (casement_guest_agent_parent_class)->finalize (object);
}

static void
casement_guest_agent_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  CasementGuestAgent *self = CASEMENT_GUEST_AGENT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, casement_guest_agent_get_state (self));
      break;

    case PROP_TIMEOUT:
      g_value_set_uint (value, casement_guest_agent_get_timeout (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_guest_agent_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  CasementGuestAgent *self = CASEMENT_GUEST_AGENT (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT:
      casement_guest_agent_set_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_guest_agent_class_init (CasementGuestAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = casement_guest_agent_dispose;
  object_class->finalize = casement_guest_agent_finalize;
  object_class->get_property = casement_guest_agent_get_property;
  object_class->set_property = casement_guest_agent_set_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       CASEMENT_TYPE_GUEST_AGENT_STATE,
                       CASEMENT_GUEST_AGENT_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       1, G_MAXUINT, CASEMENT_GUEST_AGENT_DEFAULT_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
casement_guest_agent_init (CasementGuestAgent *self)
{
  self->timeout_ms = CASEMENT_GUEST_AGENT_DEFAULT_TIMEOUT_MS;
}
