/* casement-json-stream.c
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

#define G_LOG_DOMAIN "casement-json-stream"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "casement-json-stream.h"
#include "casement-util.h"

struct _CasementJsonStream
{
  GObject                  parent_instance;

  /* Owned references */
  GIOStream               *stream;
  GDataInputStream        *input;
  GOutputStream           *output;
  GCancellable            *cancellable;   /* ends the connect, reads and writes on close */
  GQueue                   write_queue;   /* GBytes, head is being written */
  char                    *socket_path;   /* for messages; NULL after open() */

  CasementJsonStreamState  state;
  guint                    writing : 1;
};

enum {
  LINE,
  CLOSED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (CasementJsonStream, casement_json_stream, G_TYPE_OBJECT)

static guint signals[N_SIGNALS];

/* Async I/O holds a weak reference: the read loop runs for the whole
 * connection, so a strong one would keep an abandoned stream (and its
 * socket) alive forever. */
static GWeakRef *
weak_ref_new (gpointer object)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, object);
  return ref;
}

static gpointer
weak_ref_steal (GWeakRef *ref)
{
  gpointer object = g_weak_ref_get (ref);

  g_weak_ref_clear (ref);
  g_free (ref);
  return object;
}

/* Ends the stream with @error (owned), named after the socket where
 * there is one. A reset (the peer exited with bytes of ours unread) and a
 * broken pipe are CONNECTION_CLOSED in GIO, as is the end of the stream:
 * the owner words those. */
static void
casement_json_stream_fail (CasementJsonStream *self,
                           GError             *error)
{
  g_autoptr(GError) reason = error;

  g_assert (CASEMENT_IS_JSON_STREAM (self));
  g_assert (error != NULL);

  if (self->state == CASEMENT_JSON_STREAM_STATE_CONNECTING)
    g_prefix_error (&reason, _("Could not connect to “%s” (is the virtual machine running?): "),
                    self->socket_path);
  else if (self->socket_path != NULL && !g_error_matches (reason, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    g_prefix_error (&reason, _("The connection to “%s” failed: "), self->socket_path);

  g_debug ("Stream ended: %s", reason->message);
  casement_json_stream_close (self);
  g_signal_emit (self, signals[CLOSED], 0, reason);
}

static void casement_json_stream_read_next (CasementJsonStream *self);

static void
casement_json_stream_read_line_cb (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  GDataInputStream *input = G_DATA_INPUT_STREAM (object);
  g_autoptr(CasementJsonStream) self = weak_ref_steal (user_data);
  g_autoptr(GBytes) line = NULL;
  GError *error = NULL;
  char *data;
  gsize length = 0;

  if ((data = g_data_input_stream_read_line_finish (input, result, &length, &error)))
    line = g_bytes_new_take (data, length);

  /* Closed (or disposed) while the read was in flight. */
  if (self == NULL || self->input != input)
    {
      g_clear_error (&error);
      return;
    }

  if (error == NULL && line == NULL)
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                 _("The peer closed the connection"));
  if (error != NULL)
    {
      casement_json_stream_fail (self, error);
      return;
    }

  g_debug ("recv: %.*s", (int) length, data);
  g_signal_emit (self, signals[LINE], 0, line);

  /* A handler may have closed the stream. */
  if (self->input == input)
    casement_json_stream_read_next (self);
}

static void
casement_json_stream_read_next (CasementJsonStream *self)
{
  g_assert (CASEMENT_IS_JSON_STREAM (self));

  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->cancellable,
                                       casement_json_stream_read_line_cb,
                                       weak_ref_new (self));
}

static void casement_json_stream_write_next (CasementJsonStream *self);

static void
casement_json_stream_write_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  GOutputStream *output = G_OUTPUT_STREAM (object);
  g_autoptr(CasementJsonStream) self = weak_ref_steal (user_data);
  GError *error = NULL;

  g_output_stream_write_all_finish (output, result, NULL, &error);

  /* Closed (or disposed) while the write was in flight. */
  if (self == NULL || self->output != output)
    {
      g_clear_error (&error);
      return;
    }

  self->writing = FALSE;
  g_bytes_unref (g_queue_pop_head (&self->write_queue));

  if (error != NULL)
    casement_json_stream_fail (self, error);
  else
    casement_json_stream_write_next (self);
}

/* One write at a time, in order, so two lines never interleave. */
static void
casement_json_stream_write_next (CasementJsonStream *self)
{
  GBytes *bytes;
  gconstpointer data;
  gsize size;

  g_assert (CASEMENT_IS_JSON_STREAM (self));

  if (self->writing || self->output == NULL || !(bytes = g_queue_peek_head (&self->write_queue)))
    return;

  data = g_bytes_get_data (bytes, &size);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, data, size, G_PRIORITY_DEFAULT, self->cancellable,
                                   casement_json_stream_write_cb, weak_ref_new (self));
}

static void
casement_json_stream_start (CasementJsonStream *self,
                            GIOStream          *stream)
{
  g_assert (CASEMENT_IS_JSON_STREAM (self));
  g_assert (G_IS_IO_STREAM (stream));

  self->state = CASEMENT_JSON_STREAM_STATE_OPEN;
  self->stream = g_object_ref (stream);
  self->output = g_object_ref (g_io_stream_get_output_stream (stream));
  self->input = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  /* CRLF is the owner's to strip; NEWLINE_TYPE_ANY would have to wait
   * after a '\r' to learn whether a '\n' follows. */
  g_data_input_stream_set_newline_type (self->input, G_DATA_STREAM_NEWLINE_TYPE_LF);

  casement_json_stream_read_next (self);
  casement_json_stream_write_next (self);
}

static void
casement_json_stream_connect_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(CasementJsonStream) self = weak_ref_steal (user_data);
  g_autoptr(GSocketConnection) connection = NULL;
  GError *error = NULL;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);

  /* Closed (or disposed) meanwhile: a connection made anyway is dropped. */
  if (self == NULL || self->state != CASEMENT_JSON_STREAM_STATE_CONNECTING)
    {
      g_clear_error (&error);
      return;
    }

  if (connection == NULL)
    casement_json_stream_fail (self, error);
  else
    casement_json_stream_start (self, G_IO_STREAM (connection));
}

void
casement_json_stream_connect (CasementJsonStream *self,
                              const char         *socket_path)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  GError *error = NULL;

  g_return_if_fail (CASEMENT_IS_JSON_STREAM (self));
  g_return_if_fail (socket_path != NULL);
  g_return_if_fail (self->state == CASEMENT_JSON_STREAM_STATE_DISCONNECTED);

  if (!(address = casement_util_unix_socket_address_new (socket_path, &error)))
    {
      casement_json_stream_fail (self, error);
      return;
    }

  self->socket_path = g_strdup (socket_path);
  self->state = CASEMENT_JSON_STREAM_STATE_CONNECTING;
  client = g_socket_client_new ();
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), self->cancellable,
                                 casement_json_stream_connect_cb, weak_ref_new (self));
}

void
casement_json_stream_open (CasementJsonStream *self,
                           GIOStream          *stream)
{
  g_return_if_fail (CASEMENT_IS_JSON_STREAM (self));
  g_return_if_fail (G_IS_IO_STREAM (stream));
  g_return_if_fail (self->state == CASEMENT_JSON_STREAM_STATE_DISCONNECTED);

  casement_json_stream_start (self, stream);
}

void
casement_json_stream_write (CasementJsonStream *self,
                            GBytes             *bytes)
{
  g_return_if_fail (CASEMENT_IS_JSON_STREAM (self));
  g_return_if_fail (bytes != NULL);

  if (self->state == CASEMENT_JSON_STREAM_STATE_CLOSED)
    return;

  g_debug ("send: %.*s", (int) g_bytes_get_size (bytes), (const char *) g_bytes_get_data (bytes, NULL));
  g_queue_push_tail (&self->write_queue, g_bytes_ref (bytes));
  casement_json_stream_write_next (self);
}

void
casement_json_stream_close (CasementJsonStream *self)
{
  g_return_if_fail (CASEMENT_IS_JSON_STREAM (self));

  if (self->state == CASEMENT_JSON_STREAM_STATE_CLOSED)
    return;

  /* What is in flight finishes (cancelled) in a later main loop
   * iteration, and finds the state, input and output changed. */
  self->state = CASEMENT_JSON_STREAM_STATE_CLOSED;
  g_cancellable_cancel (self->cancellable);
  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->stream);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  self->writing = FALSE;
}

CasementJsonStreamState
casement_json_stream_get_state (CasementJsonStream *self)
{
  g_return_val_if_fail (CASEMENT_IS_JSON_STREAM (self), CASEMENT_JSON_STREAM_STATE_DISCONNECTED);

  return self->state;
}

CasementJsonStream *
casement_json_stream_new (void)
{
  return g_object_new (CASEMENT_TYPE_JSON_STREAM, NULL);
}

static void
casement_json_stream_dispose (GObject *object)
{
  casement_json_stream_close (CASEMENT_JSON_STREAM (object));

  G_OBJECT_CLASS (casement_json_stream_parent_class)->dispose (object);
}

static void
casement_json_stream_finalize (GObject *object)
{
  CasementJsonStream *self = CASEMENT_JSON_STREAM (object);

  g_clear_object (&self->cancellable);
  g_free (self->socket_path);

  G_OBJECT_CLASS (casement_json_stream_parent_class)->finalize (object);
}

static void
casement_json_stream_class_init (CasementJsonStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = casement_json_stream_dispose;
  object_class->finalize = casement_json_stream_finalize;

  signals[LINE] = g_signal_new ("line", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                0, NULL, NULL, NULL,
                                G_TYPE_NONE, 1, G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
casement_json_stream_init (CasementJsonStream *self)
{
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->write_queue);
}
