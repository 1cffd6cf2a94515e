/* casement-qmp-client.c
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

#define G_LOG_DOMAIN "casement-qmp-client"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "casement-enums.h"
#include "casement-json-stream.h"
#include "casement-qmp-client.h"

struct _CasementQmpClient
{
  GObject             parent_instance;

  /* Owned references */
  CasementJsonStream *stream;
  GHashTable         *pending;            /* &Command.id → GTask */
  GTask              *connect_task;
  GSource            *connect_cancel_source;

  gint64              last_id;
  CasementQmpState    state;
  guint               qemu_major;
  guint               qemu_minor;
  guint               qemu_micro;

  guint               greeted : 1;
};

/* Task data of a command waiting for its reply. */
typedef struct
{
  gint64   id;
  char    *name;
  GSource *cancel_source;
} Command;

/* QEMU's error "class" travels with the GError, so callers can tell
 * e.g. CommandNotFound from GenericError without parsing messages. */
typedef struct
{
  char *qmp_class;
} CasementQmpErrorPrivate;

enum {
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum {
  EVENT,
  CLOSED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (CasementQmpClient, casement_qmp_client, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
casement_qmp_error_private_init (CasementQmpErrorPrivate *priv)
{
  priv->qmp_class = NULL;
}

static void
casement_qmp_error_private_copy (const CasementQmpErrorPrivate *src,
                                 CasementQmpErrorPrivate       *dest)
{
  dest->qmp_class = g_strdup (src->qmp_class);
}

static void
casement_qmp_error_private_clear (CasementQmpErrorPrivate *priv)
{
  g_clear_pointer (&priv->qmp_class, g_free);
}

G_DEFINE_EXTENDED_ERROR (CasementQmpError, casement_qmp_error)

/**
 * casement_qmp_error_get_qmp_class:
 * @error: a #GError
 *
 * Returns: (transfer none) (nullable): QEMU's error class (e.g.
 *   "CommandNotFound", "GenericError") of a
 *   %CASEMENT_QMP_ERROR_COMMAND_FAILED error, or %NULL for any other error.
 */
const char *
casement_qmp_error_get_qmp_class (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (!g_error_matches (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_COMMAND_FAILED))
    return NULL;

  return casement_qmp_error_get_private (error)->qmp_class;
}

static void
command_detach_cancel_source (Command *command)
{
  if (command->cancel_source != NULL)
    g_source_destroy (command->cancel_source);
  g_clear_pointer (&command->cancel_source, g_source_unref);
}

static void
command_free (Command *command)
{
  command_detach_cancel_source (command);
  g_clear_pointer (&command->name, g_free);
  g_free (command);
}

static gint
command_compare_tasks (gconstpointer a,
                       gconstpointer b)
{
  const Command *command_a = g_task_get_task_data ((GTask *)a);
  const Command *command_b = g_task_get_task_data ((GTask *)b);

  return (command_a->id > command_b->id) - (command_a->id < command_b->id);
}

static JsonObject *
get_object_member (JsonObject *object,
                   const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

static const char *
get_string_member (JsonObject *object,
                   const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/**
 * casement_qmp_parse_line:
 * @line: one line as read, without its '\n'
 * @length: its length in bytes
 * @message: (out) (transfer full) (nullable): the parsed object, or %NULL
 *   for a blank line
 * @error: a #GError: %CASEMENT_QMP_ERROR_PROTOCOL, its message saying
 *   what is wrong with the line
 *
 * Reads one line of the wire format QEMU's monitor shares with its guest
 * agent: a JSON object per line, CRLF or LF ended.
 *
 * Returns: %FALSE when the line is not a JSON object
 */
gboolean
casement_qmp_parse_line (const char  *line,
                         gsize        length,
                         JsonNode   **message,
                         GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (line != NULL || length == 0, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  *message = NULL;

  if (length > 0 && line[length - 1] == '\r')
    length--;

  if (length == 0)
    return TRUE;

  if (!g_utf8_validate_len (line, length, NULL))
    {
      g_set_error_literal (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                           _("it sent binary data, not UTF-8 text"));
      return FALSE;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, line, length, &parse_error))
    {
      g_set_error_literal (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                           parse_error->message);
      return FALSE;
    }

  root = json_parser_steal_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                           _("not a JSON object"));
      return FALSE;
    }

  *message = g_steal_pointer (&root);
  return TRUE;
}

/**
 * casement_qmp_command_line:
 * @command: the command's name
 * @arguments: (nullable) (transfer none): a JSON object of arguments
 * @id: the command's id, or 0 for none (the guest agent takes none)
 *
 * Returns: (transfer full): the command as one '\n'-terminated line
 */
GBytes *
casement_qmp_command_line (const char *command,
                           JsonNode   *arguments,
                           gint64      id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  GString *line;
  gsize length;

  g_return_val_if_fail (command != NULL, NULL);
  g_return_val_if_fail (arguments == NULL || JSON_NODE_HOLDS_OBJECT (arguments), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, command);
  if (arguments != NULL)
    {
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, json_node_copy (arguments));
    }
  if (id != 0)
    {
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, id);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);

  line = g_string_new_len (text, length);
  g_string_append_c (line, '\n');
  return g_string_free_to_bytes (line);
}

/**
 * casement_qmp_reply_take_return:
 * @reply: a reply message (it has "return" or "error")
 * @command: the command it answers, for messages
 * @error: a #GError
 *
 * Returns: (transfer full): the reply's "return" member, cut loose from
 *   @reply; or %NULL with %CASEMENT_QMP_ERROR_COMMAND_FAILED (the peer's
 *   "desc" and "class") or %CASEMENT_QMP_ERROR_PROTOCOL.
 */
JsonNode *
casement_qmp_reply_take_return (JsonObject  *reply,
                                const char  *command,
                                GError     **error)
{
  JsonObject *error_object;
  JsonNode *ret;

  g_return_val_if_fail (reply != NULL, NULL);
  g_return_val_if_fail (command != NULL, NULL);

  if ((ret = json_object_get_member (reply, "return")))
    {
      /* The reply outlives the parsed message. A copy would share the
       * object whose members still name the discarded node as their parent
       * (JsonReader walks back up through it), so hand out this very node,
       * cut loose from the message. */
      json_node_ref (ret);
      json_node_set_parent (ret, NULL);
      return ret;
    }

  if ((error_object = get_object_member (reply, "error")))
    {
      const char *desc = get_string_member (error_object, "desc");
      GError *command_error;

      if (desc == NULL)
        desc = _("QEMU reported an error without a description");
      command_error = g_error_new_literal (CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_COMMAND_FAILED, desc);
      casement_qmp_error_get_private (command_error)->qmp_class =
        g_strdup (get_string_member (error_object, "class"));
      g_propagate_error (error, command_error);
      return NULL;
    }

  g_set_error (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
               _("QEMU’s reply to “%s” has neither a result nor an error"),
               command);
  return NULL;
}

static void
casement_qmp_client_set_state (CasementQmpClient *self,
                               CasementQmpState   state)
{
  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Every way the connection ends goes through here: the state becomes
 * CLOSED, whatever waits fails, and "closed" is emitted exactly once. */
static void
casement_qmp_client_teardown (CasementQmpClient *self,
                              const GError      *reason)
{
  g_autoptr(CasementQmpClient) hold = NULL;
  g_autoptr(GHashTable) pending = NULL;
  g_autoptr(GTask) connect_task = NULL;
  g_autoptr(GList) tasks = NULL;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  if (self->state == CASEMENT_QMP_STATE_CLOSED)
    return;

  /* Task callbacks and signal handlers below may drop the last reference. */
  hold = g_object_ref (self);

  g_debug ("QMP connection closing: %s", reason != NULL ? reason->message : "closed by us");

  if (self->stream != NULL)
    casement_json_stream_close (self->stream);

  pending = g_steal_pointer (&self->pending);
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_object_unref);
  connect_task = g_steal_pointer (&self->connect_task);
  if (self->connect_cancel_source != NULL)
    g_source_destroy (self->connect_cancel_source);
  g_clear_pointer (&self->connect_cancel_source, g_source_unref);

  casement_qmp_client_set_state (self, CASEMENT_QMP_STATE_CLOSED);

  if (connect_task != NULL)
    {
      if (reason != NULL)
        g_task_return_error (connect_task, g_error_copy (reason));
      else
        g_task_return_new_error (connect_task,
                                 CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED,
                                 _("The QMP connection was closed before it was ready"));
    }

  tasks = g_list_sort (g_hash_table_get_values (pending), command_compare_tasks);
  for (const GList *l = tasks; l != NULL; l = l->next)
    {
      GTask *task = l->data;
      Command *command = g_task_get_task_data (task);

      command_detach_cancel_source (command);
      g_task_return_new_error (task,
                               CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED,
                               _("The QMP connection closed before QEMU answered “%s”"),
                               command->name);
    }

  g_signal_emit (self, signals[CLOSED], 0, reason);
}

static void
casement_qmp_client_stream_closed_cb (CasementQmpClient *self,
                                      const GError      *reason)
{
  g_autoptr(GError) closed = NULL;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  /* After "quit", say; any other reason names the socket already. */
  if (g_error_matches (reason, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    reason = closed = g_error_new_literal (CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED,
                                           _("QEMU closed the QMP connection"));
  casement_qmp_client_teardown (self, reason);
}

static gboolean
casement_qmp_client_command_cancelled_cb (GCancellable *cancellable,
                                          gpointer      user_data)
{
  GTask *task = user_data;
  CasementQmpClient *self = g_task_get_source_object (task);
  Command *command = g_task_get_task_data (task);
  g_autoptr(GTask) owned = NULL;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  g_debug ("Command %s (id %" G_GINT64_FORMAT ") cancelled; its reply will be dropped",
           command->name, command->id);

  /* @task is borrowed from the pending table, which is the only owner
   * that may outlive this call: take it before detaching the source. */
  if (!g_hash_table_steal_extended (self->pending, &command->id, NULL, (gpointer *)&owned))
    g_assert_not_reached ();

  command_detach_cancel_source (command);
  g_task_return_error_if_cancelled (owned);

  return G_SOURCE_REMOVE;
}

/* Queues @name for sending; @task (owned) gets the reply. */
static void
casement_qmp_client_send (CasementQmpClient *self,
                          const char        *name,
                          JsonNode          *arguments,
                          GTask             *task)
{
  g_autoptr(GBytes) line = NULL;
  GCancellable *cancellable;
  Command *command;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));
  g_assert (name != NULL);
  g_assert (arguments == NULL || JSON_NODE_HOLDS_OBJECT (arguments));
  g_assert (G_IS_TASK (task));
  g_assert (self->stream != NULL);

  command = g_new0 (Command, 1);
  command->id = ++self->last_id;
  command->name = g_strdup (name);
  g_task_set_task_data (task, command, (GDestroyNotify) command_free);

  line = casement_qmp_command_line (name, arguments, command->id);
  if ((cancellable = g_task_get_cancellable (task)) != NULL)
    {
      command->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (command->cancel_source, "[casement-qmp-command-cancel]");
      g_source_set_callback (command->cancel_source,
                             G_SOURCE_FUNC (casement_qmp_client_command_cancelled_cb),
                             task, NULL);
      g_source_attach (command->cancel_source, g_task_get_context (task));
    }

  g_hash_table_insert (self->pending, &command->id, task);

  casement_json_stream_write (self->stream, line);
}

static void
casement_qmp_client_capabilities_cb (GObject      *object,
                                     GAsyncResult *result,
                                     gpointer      user_data)
{
  CasementQmpClient *self = CASEMENT_QMP_CLIENT (object);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) connect_task = NULL;

  reply = g_task_propagate_pointer (G_TASK (result), &error);

  /* Torn down meanwhile: the connect task has already failed. */
  if (self->connect_task == NULL)
    return;

  if (reply == NULL)
    {
      g_autoptr(GError) refused = NULL;

      refused = g_error_new (CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                             _("QEMU refused QMP capabilities negotiation: %s"),
                             error->message);
      casement_qmp_client_teardown (self, refused);
      return;
    }

  if (self->connect_cancel_source != NULL)
    g_source_destroy (self->connect_cancel_source);
  g_clear_pointer (&self->connect_cancel_source, g_source_unref);
  connect_task = g_steal_pointer (&self->connect_task);

  casement_qmp_client_set_state (self, CASEMENT_QMP_STATE_READY);
  g_task_return_boolean (connect_task, TRUE);
}

static void
casement_qmp_client_handle_greeting (CasementQmpClient *self,
                                     JsonObject        *message)
{
  g_autoptr(GTask) task = NULL;
  JsonObject *qmp;
  JsonObject *version;
  JsonObject *qemu;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));
  g_assert (self->state == CASEMENT_QMP_STATE_CONNECTING);

  if (!(qmp = get_object_member (message, "QMP")) ||
      !(version = get_object_member (qmp, "version")) ||
      !(qemu = get_object_member (version, "qemu")) ||
      json_object_get_int_member_with_default (qemu, "major", -1) < 0)
    {
      g_autoptr(GError) error = NULL;

      error = g_error_new_literal (CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                                   _("The peer is not a QMP server: its first message is "
                                     "not a QMP greeting with a QEMU version"));
      casement_qmp_client_teardown (self, error);
      return;
    }

  self->greeted = TRUE;
  self->qemu_major = json_object_get_int_member_with_default (qemu, "major", 0);
  self->qemu_minor = json_object_get_int_member_with_default (qemu, "minor", 0);
  self->qemu_micro = json_object_get_int_member_with_default (qemu, "micro", 0);

  task = g_task_new (self, NULL, casement_qmp_client_capabilities_cb, NULL);
  g_task_set_source_tag (task, casement_qmp_client_handle_greeting);
  casement_qmp_client_send (self, "qmp_capabilities", NULL, g_steal_pointer (&task));
}

static void
casement_qmp_client_handle_event (CasementQmpClient *self,
                                  const char        *name,
                                  JsonObject        *message)
{
  JsonObject *timestamp;
  gint64 usec = 0;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));
  g_assert (name != NULL);

  if ((timestamp = get_object_member (message, "timestamp")))
    usec = json_object_get_int_member_with_default (timestamp, "seconds", 0) * G_USEC_PER_SEC
         + json_object_get_int_member_with_default (timestamp, "microseconds", 0);

  /* A detail nobody connected to has no quark yet; a peer inventing event
   * names must not grow the quark table. */
  g_signal_emit (self, signals[EVENT], g_quark_try_string (name),
                 name, get_object_member (message, "data"), usec);
}

static void
casement_qmp_client_handle_reply (CasementQmpClient *self,
                                  JsonObject        *message)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *id_node;
  JsonNode *ret;
  Command *command;
  gint64 id;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  id_node = json_object_get_member (message, "id");
  if (id_node == NULL || json_node_get_value_type (id_node) != G_TYPE_INT64)
    {
      g_debug ("Dropping a reply without a command id of ours");
      return;
    }

  id = json_node_get_int (id_node);
  if (!g_hash_table_steal_extended (self->pending, &id, NULL, (gpointer *)&task))
    {
      g_debug ("Dropping the reply to unknown or cancelled command id %" G_GINT64_FORMAT, id);
      return;
    }

  command = g_task_get_task_data (task);
  command_detach_cancel_source (command);

  if ((ret = casement_qmp_reply_take_return (message, command->name, &error)))
    g_task_return_pointer (task, ret, (GDestroyNotify) json_node_unref);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
casement_qmp_client_handle_line (CasementQmpClient *self,
                                 GBytes            *line)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *message;
  const char *event;
  const char *data;
  gsize length;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  data = g_bytes_get_data (line, &length);
  if (!casement_qmp_parse_line (data, length, &root, &error))
    {
      g_autoptr(GError) protocol_error = NULL;

      if (self->greeted)
        protocol_error = g_error_new (CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                                      _("QEMU sent a QMP message that is not a JSON object: %s"),
                                      error->message);
      else
        protocol_error = g_error_new (CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL,
                                      _("The peer is not a QMP server: %s"),
                                      error->message);
      casement_qmp_client_teardown (self, protocol_error);
      return;
    }

  if (root == NULL)
    return;

  message = json_node_get_object (root);

  if (!self->greeted)
    casement_qmp_client_handle_greeting (self, message);
  else if ((event = get_string_member (message, "event")))
    casement_qmp_client_handle_event (self, event, message);
  else if (json_object_has_member (message, "return") ||
           json_object_has_member (message, "error") ||
           json_object_has_member (message, "id"))
    casement_qmp_client_handle_reply (self, message);
  else
    g_debug ("Ignoring a QMP message that is neither a reply nor an event");
}

static gboolean
casement_qmp_client_connect_cancelled_cb (GCancellable *cancellable,
                                          gpointer      user_data)
{
  CasementQmpClient *self = user_data;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  casement_qmp_client_teardown (self, error);

  return G_SOURCE_REMOVE;
}

static void
casement_qmp_client_begin_connect (CasementQmpClient *self,
                                   GTask             *task)
{
  GCancellable *cancellable;

  g_assert (CASEMENT_IS_QMP_CLIENT (self));
  g_assert (G_IS_TASK (task));
  g_assert (self->state == CASEMENT_QMP_STATE_DISCONNECTED);
  g_assert (self->connect_task == NULL);

  self->connect_task = task;
  casement_qmp_client_set_state (self, CASEMENT_QMP_STATE_CONNECTING);

  self->stream = casement_json_stream_new ();
  g_signal_connect_object (self->stream, "line", G_CALLBACK (casement_qmp_client_handle_line),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stream, "closed", G_CALLBACK (casement_qmp_client_stream_closed_cb),
                           self, G_CONNECT_SWAPPED);

  /* The source is destroyed with the connect task, which holds a
   * reference on self: borrowing self is safe. */
  if ((cancellable = g_task_get_cancellable (task)) != NULL)
    {
      self->connect_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (self->connect_cancel_source, "[casement-qmp-connect-cancel]");
      g_source_set_callback (self->connect_cancel_source,
                             G_SOURCE_FUNC (casement_qmp_client_connect_cancelled_cb),
                             self, NULL);
      g_source_attach (self->connect_cancel_source, g_task_get_context (task));
    }
}

/**
 * casement_qmp_client_connect_async:
 * @self: a #CasementQmpClient in state %CASEMENT_QMP_STATE_DISCONNECTED
 * @socket_path: path of QEMU's `-qmp unix:` socket
 * @cancellable: (nullable): cancels the connection attempt (and closes the client)
 * @callback: called once the client is ready or has failed
 * @user_data: data for @callback
 *
 * Connects, reads QEMU's greeting and negotiates capabilities. A client
 * connects once: after a failure it is %CASEMENT_QMP_STATE_CLOSED, and
 * the error names the socket.
 */
void
casement_qmp_client_connect_async (CasementQmpClient   *self,
                                   const char          *socket_path,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_QMP_CLIENT (self));
  g_return_if_fail (socket_path != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->state == CASEMENT_QMP_STATE_DISCONNECTED);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_qmp_client_connect_async);

  casement_qmp_client_begin_connect (self, g_steal_pointer (&task));
  casement_json_stream_connect (self->stream, socket_path);
}

/**
 * casement_qmp_client_connect_finish:
 *
 * Returns: %TRUE once the client is %CASEMENT_QMP_STATE_READY.
 */
gboolean
casement_qmp_client_connect_finish (CasementQmpClient  *self,
                                    GAsyncResult       *result,
                                    GError            **error)
{
  g_return_val_if_fail (CASEMENT_IS_QMP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        casement_qmp_client_connect_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * casement_qmp_client_connect_stream_async:
 * @self: a #CasementQmpClient in state %CASEMENT_QMP_STATE_DISCONNECTED
 * @stream: a connected stream; the client closes it when it closes
 * @cancellable: (nullable): cancels the handshake (and closes the client)
 * @callback: called once the client is ready or has failed
 * @user_data: data for @callback
 */
void
casement_qmp_client_connect_stream_async (CasementQmpClient   *self,
                                          GIOStream           *stream,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_QMP_CLIENT (self));
  g_return_if_fail (G_IS_IO_STREAM (stream));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->state == CASEMENT_QMP_STATE_DISCONNECTED);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_qmp_client_connect_stream_async);

  casement_qmp_client_begin_connect (self, g_steal_pointer (&task));
  casement_json_stream_open (self->stream, stream);
}

gboolean
casement_qmp_client_connect_stream_finish (CasementQmpClient  *self,
                                           GAsyncResult       *result,
                                           GError            **error)
{
  g_return_val_if_fail (CASEMENT_IS_QMP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        casement_qmp_client_connect_stream_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * casement_qmp_client_execute_async:
 * @self: a #CasementQmpClient
 * @command: a QMP command name, e.g. "query-status"
 * @arguments: (nullable) (transfer none): a JSON object of arguments
 * @cancellable: (nullable): abandons the reply (QEMU may still run the command)
 * @callback: called with the reply
 * @user_data: data for @callback
 *
 * Sends a command; replies are matched by id, so several commands may be
 * in flight at once. Fails with %CASEMENT_QMP_ERROR_DISCONNECTED unless
 * the client is %CASEMENT_QMP_STATE_READY.
 */
void
casement_qmp_client_execute_async (CasementQmpClient   *self,
                                   const char          *command,
                                   JsonNode            *arguments,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_QMP_CLIENT (self));
  g_return_if_fail (command != NULL);
  g_return_if_fail (arguments == NULL || JSON_NODE_HOLDS_OBJECT (arguments));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_qmp_client_execute_async);

  if (self->state != CASEMENT_QMP_STATE_READY)
    {
      g_task_return_new_error (task, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED,
                               _("Cannot send “%s” to QEMU: the QMP connection is not open"),
                               command);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  casement_qmp_client_send (self, command, arguments, g_steal_pointer (&task));
}

/**
 * casement_qmp_client_execute_finish:
 *
 * Returns: (transfer full): the reply's "return" member. On failure the
 *   error is %CASEMENT_QMP_ERROR_COMMAND_FAILED with QEMU's "desc" as its
 *   message (and its "class" from casement_qmp_error_get_qmp_class()),
 *   %CASEMENT_QMP_ERROR_DISCONNECTED, or %G_IO_ERROR_CANCELLED.
 */
JsonNode *
casement_qmp_client_execute_finish (CasementQmpClient  *self,
                                    GAsyncResult       *result,
                                    GError            **error)
{
  g_return_val_if_fail (CASEMENT_IS_QMP_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        casement_qmp_client_execute_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * casement_qmp_client_close:
 * @self: a #CasementQmpClient
 *
 * Closes the connection: pending commands fail with
 * %CASEMENT_QMP_ERROR_DISCONNECTED and "closed" is emitted with a %NULL
 * reason. Calling it again does nothing.
 */
void
casement_qmp_client_close (CasementQmpClient *self)
{
  g_return_if_fail (CASEMENT_IS_QMP_CLIENT (self));

  casement_qmp_client_teardown (self, NULL);
}

CasementQmpState
casement_qmp_client_get_state (CasementQmpClient *self)
{
  g_return_val_if_fail (CASEMENT_IS_QMP_CLIENT (self), CASEMENT_QMP_STATE_DISCONNECTED);

  return self->state;
}

void
casement_qmp_client_get_qemu_version (CasementQmpClient *self,
                                      guint             *major,
                                      guint             *minor,
                                      guint             *micro)
{
  g_return_if_fail (CASEMENT_IS_QMP_CLIENT (self));

  if (major != NULL)
    *major = self->qemu_major;
  if (minor != NULL)
    *minor = self->qemu_minor;
  if (micro != NULL)
    *micro = self->qemu_micro;
}

CasementQmpClient *
casement_qmp_client_new (void)
{
  return g_object_new (CASEMENT_TYPE_QMP_CLIENT, NULL);
}

static void
casement_qmp_client_dispose (GObject *object)
{
  CasementQmpClient *self = (CasementQmpClient *)object;

  /* Every pending task holds a reference on self, so none is left here;
   * the stream closes as it goes. */
  g_assert (self->connect_task == NULL);
  g_assert (self->pending == NULL || g_hash_table_size (self->pending) == 0);

  g_clear_object (&self->stream);

  G_OBJECT_CLASS (casement_qmp_client_parent_class)->dispose (object);
}

static void
casement_qmp_client_finalize (GObject *object)
{
  CasementQmpClient *self = (CasementQmpClient *)object;

  g_clear_pointer (&self->pending, g_hash_table_unref);

  G_OBJECT_CLASS (casement_qmp_client_parent_class)->finalize (object);
}

static void
casement_qmp_client_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  CasementQmpClient *self = CASEMENT_QMP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, casement_qmp_client_get_state (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_qmp_client_class_init (CasementQmpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = casement_qmp_client_dispose;
  object_class->finalize = casement_qmp_client_finalize;
  object_class->get_property = casement_qmp_client_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       CASEMENT_TYPE_QMP_STATE,
                       CASEMENT_QMP_STATE_DISCONNECTED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CasementQmpClient::event:
   * @self: a #CasementQmpClient
   * @name: the event name, e.g. "SHUTDOWN" (also the signal detail)
   * @data: (nullable): the event's "data" member
   * @timestamp: QEMU's timestamp of the event, in µs since the epoch
   */
  signals[EVENT] =
    g_signal_new ("event",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  JSON_TYPE_OBJECT | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_INT64);

  /**
   * CasementQmpClient::closed:
   * @self: a #CasementQmpClient
   * @reason: (nullable): why the connection ended; %NULL after
   *   casement_qmp_client_close()
   */
  signals[CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
casement_qmp_client_init (CasementQmpClient *self)
{
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_object_unref);
}
