/* test-qmp-client.c
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

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "casement-qemu-command.h"
#include "casement-qmp-client.h"
#include "casement-test-util.h"

/* Generous: the machine is shared, and TCG is slow to start. */
#define WAIT_TIMEOUT_SECONDS 60

#define GREETING \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": 2, \"major\": 7}, " \
  "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}"

/* ---------------------------------------------------------------------------
 * Waiting on the main loop (casement-test-util.h: with a deadline, so a
 * broken client fails the test instead of hanging it).
 */

/* Lets finished operations (e.g. cancelled reads) release their objects. */
static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

typedef struct
{
  gboolean  done;
  JsonNode *reply;
  GError   *error;
} Call;

static void
call_clear (Call *call)
{
  g_clear_pointer (&call->reply, json_node_unref);
  g_clear_error (&call->error);
  call->done = FALSE;
}

static void
execute_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Call *call = user_data;

  g_assert_false (call->done);
  call->reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result,
                                                    &call->error);
  g_assert_true ((call->reply == NULL) != (call->error == NULL));
  call->done = TRUE;
}

static void
execute (CasementQmpClient *client,
         const char        *command,
         JsonNode          *arguments,
         GCancellable      *cancellable,
         Call              *call)
{
  call_clear (call);
  casement_qmp_client_execute_async (client, command, arguments, cancellable, execute_cb, call);
}

static JsonNode *
execute_sync (CasementQmpClient *client,
              const char        *command,
              GError           **error)
{
  Call call = { 0 };

  execute (client, command, NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, command);

  if (call.error != NULL)
    g_propagate_error (error, g_steal_pointer (&call.error));
  return call.reply;
}

static JsonNode *
object_arguments (const char *name,
                  gint64      value)
{
  g_autoptr(JsonObject) object = json_object_new ();
  JsonNode *node;

  json_object_set_int_member (object, name, value);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, object);
  return node;
}

static gint64
reply_int (JsonNode   *reply,
           const char *member)
{
  g_assert_nonnull (reply);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply));
  g_assert_true (json_object_has_member (json_node_get_object (reply), member));
  return json_object_get_int_member (json_node_get_object (reply), member);
}

/* ---------------------------------------------------------------------------
 * A scripted fake QMP server. The script runs in a thread with blocking
 * I/O, so it reads as a transcript; the client under test runs on the main
 * loop of the test's thread.
 */

typedef struct _FakeServer FakeServer;
typedef void (*FakeScript) (FakeServer *server);

struct _FakeServer
{
  GIOStream        *stream;
  GDataInputStream *input;
  GOutputStream    *output;
  GThread          *thread;
  FakeScript        script;
  gconstpointer     data;
  gint              reading;    /* atomic; set when a script starts a slow read */
};

static void
fake_send_raw (FakeServer *server,
               const char *data,
               gsize       length)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (server->output, data, length, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fake_send (FakeServer *server,
           const char *json)
{
  g_autofree char *line = g_strconcat (json, "\r\n", NULL);

  fake_send_raw (server, line, strlen (line));
}

static void G_GNUC_PRINTF (2, 3)
fake_sendf (FakeServer *server,
            const char *format,
            ...)
{
  g_autofree char *json = NULL;
  va_list args;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);

  fake_send (server, json);
}

/* Writes @data @chunk bytes at a time, @delay_usec apart. */
static void
fake_dribble (FakeServer *server,
              const char *data,
              gsize       chunk,
              gulong      delay_usec)
{
  gsize length = strlen (data);

  for (gsize offset = 0; offset < length; offset += chunk)
    {
      fake_send_raw (server, data + offset, MIN (chunk, length - offset));
      g_usleep (delay_usec);
    }
}

/* Reads one command; returns its object (transfer full). */
static JsonObject *
fake_receive (FakeServer *server)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize length;
  JsonNode *root;

  line = g_data_input_stream_read_line (server->input, &length, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);

  json_parser_load_from_data (parser, line, length, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  return json_object_ref (json_node_get_object (root));
}

/* Reads one command, checks its name and returns its id. */
static gint64
fake_expect (FakeServer  *server,
             const char  *name,
             JsonObject **arguments)
{
  g_autoptr(JsonObject) command = fake_receive (server);
  JsonNode *id;

  g_assert_cmpstr (json_object_get_string_member (command, "execute"), ==, name);
  id = json_object_get_member (command, "id");
  g_assert_nonnull (id);
  g_assert_cmpint (json_node_get_value_type (id), ==, G_TYPE_INT64);

  if (arguments != NULL)
    {
      g_assert_true (json_object_has_member (command, "arguments"));
      *arguments = json_object_ref (json_object_get_object_member (command, "arguments"));
    }
  else
    {
      g_assert_false (json_object_has_member (command, "arguments"));
    }

  return json_node_get_int (id);
}

static void
fake_handshake (FakeServer *server)
{
  gint64 id;

  fake_send (server, GREETING);
  id = fake_expect (server, "qmp_capabilities", NULL);
  fake_sendf (server, "{\"return\": {}, \"id\": %" G_GINT64_FORMAT "}", id);
}

static void
fake_expect_eof (FakeServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line (server->input, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (line);
}

static void
fake_close (FakeServer *server)
{
  g_autoptr(GError) error = NULL;

  g_io_stream_close (server->stream, NULL, &error);
  g_assert_no_error (error);
}

static gpointer
fake_server_thread (gpointer user_data)
{
  FakeServer *server = user_data;

  server->script (server);
  return NULL;
}

static void
fake_server_start (FakeServer    *server,
                   GIOStream     *stream,
                   FakeScript     script,
                   gconstpointer  data)
{
  server->stream = g_object_ref (stream);
  server->input = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  server->output = g_io_stream_get_output_stream (stream);
  server->script = script;
  server->data = data;
  server->thread = g_thread_new ("fake-qmp-server", fake_server_thread, server);
}

static void
fake_server_join (FakeServer *server)
{
  g_thread_join (g_steal_pointer (&server->thread));
  g_clear_object (&server->input);
  g_clear_object (&server->stream);
}

/* ---------------------------------------------------------------------------
 * The fixture: a client on one end of a socketpair, a fake server on the
 * other, and a record of what the client emitted.
 */

typedef struct
{
  char       *name;
  JsonObject *data;
  gint64      timestamp;
} Event;

static void
event_free (Event *event)
{
  g_free (event->name);
  g_clear_pointer (&event->data, json_object_unref);
  g_free (event);
}

typedef struct
{
  CasementQmpClient *client;
  GIOStream         *client_stream;
  FakeServer         server;
  GPtrArray         *events;
  GArray            *states;
  guint              n_closed;
  gboolean           closed;
  GError            *closed_reason;
  gboolean           closed_with_null;
} Fixture;

static void
on_event (CasementQmpClient *client,
          const char        *name,
          JsonObject        *data,
          gint64             timestamp,
          Fixture           *fixture)
{
  Event *event = g_new0 (Event, 1);

  event->name = g_strdup (name);
  event->data = data != NULL ? json_object_ref (data) : NULL;
  event->timestamp = timestamp;
  g_ptr_array_add (fixture->events, event);
}

static void
on_closed (CasementQmpClient *client,
           const GError      *reason,
           Fixture           *fixture)
{
  g_assert_cmpint (casement_qmp_client_get_state (client), ==, CASEMENT_QMP_STATE_CLOSED);

  fixture->n_closed++;
  fixture->closed = TRUE;
  g_clear_error (&fixture->closed_reason);
  fixture->closed_reason = reason != NULL ? g_error_copy (reason) : NULL;
  fixture->closed_with_null = reason == NULL;
}

static void
on_notify_state (CasementQmpClient *client,
                 GParamSpec        *pspec,
                 Fixture           *fixture)
{
  CasementQmpState state = casement_qmp_client_get_state (client);

  g_array_append_val (fixture->states, state);
}

static GIOStream *
stream_from_fd (int fd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new_from_fd (fd, &error);
  g_assert_no_error (error);
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

static void
fixture_watch_client (Fixture *fixture)
{
  fixture->events = g_ptr_array_new_with_free_func ((GDestroyNotify) event_free);
  fixture->states = g_array_new (FALSE, FALSE, sizeof (CasementQmpState));
  fixture->client = casement_qmp_client_new ();
  g_signal_connect (fixture->client, "event", G_CALLBACK (on_event), fixture);
  g_signal_connect (fixture->client, "closed", G_CALLBACK (on_closed), fixture);
  g_signal_connect (fixture->client, "notify::state", G_CALLBACK (on_notify_state), fixture);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  fixture->client_stream = stream_from_fd (fds[0]);
  fixture->server.stream = stream_from_fd (fds[1]);
  fixture_watch_client (fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  /* Dropping the client closes its end; scripts that wait for EOF end. */
  g_signal_handlers_disconnect_by_data (fixture->client, fixture);
  g_assert_finalize_object (g_steal_pointer (&fixture->client));
  g_clear_object (&fixture->client_stream);

  if (fixture->server.thread != NULL)
    fake_server_join (&fixture->server);
  g_clear_object (&fixture->server.stream);

  drain_main_context ();

  g_clear_pointer (&fixture->events, g_ptr_array_unref);
  g_clear_pointer (&fixture->states, g_array_unref);
  g_clear_error (&fixture->closed_reason);
}

static void
fixture_start (Fixture       *fixture,
               FakeScript     script,
               gconstpointer  data)
{
  g_autoptr(GIOStream) stream = g_steal_pointer (&fixture->server.stream);

  fake_server_start (&fixture->server, stream, script, data);
}

static void
iterate_until_events (Fixture *fixture,
                      guint    n_events)
{
  g_autofree char *what = g_strdup_printf ("%u events", n_events);

  CASEMENT_TEST_WAIT_UNTIL (fixture->events->len >= n_events, WAIT_TIMEOUT_SECONDS, what);
}

static gboolean
fixture_try_connect (Fixture  *fixture,
                     GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_qmp_client_connect_stream_async (fixture->client, fixture->client_stream, NULL,
                                            casement_test_store_result_cb, &result);
  casement_test_await_result (&result, WAIT_TIMEOUT_SECONDS, "the handshake");

  return casement_qmp_client_connect_stream_finish (fixture->client, result, error);
}

static void
fixture_connect (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (fixture_try_connect (fixture, &error));
  g_assert_no_error (error);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_READY);
}

/* ---------------------------------------------------------------------------
 * Unit tests against the fake server.
 */

static void
script_handshake (FakeServer *server)
{
  g_autoptr(JsonObject) arguments = NULL;
  JsonArray *keys;
  gint64 id;

  fake_handshake (server);

  id = fake_expect (server, "send-key", &arguments);
  keys = json_object_get_array_member (arguments, "keys");
  g_assert_cmpuint (json_array_get_length (keys), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (keys, 0), ==, "ctrl");
  fake_sendf (server, "{\"return\": {}, \"id\": %" G_GINT64_FORMAT "}", id);

  id = fake_expect (server, "query-version", NULL);
  fake_sendf (server,
              "{\"return\": {\"qemu\": {\"micro\": 3, \"minor\": 2, \"major\": 7}, "
              "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"id\": %" G_GINT64_FORMAT "}", id);

  fake_expect_eof (server);
}

static void
test_handshake (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(JsonNode) arguments = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  Call call = { 0 };
  guint major, minor, micro;

  /* Before connecting, commands fail rather than queue forever. */
  execute (fixture->client, "query-status", NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "query-status before connecting");
  g_assert_error (call.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);

  casement_qmp_client_get_qemu_version (fixture->client, &major, &minor, &micro);
  g_assert_cmpuint (major, ==, 0);

  fixture_start (fixture, script_handshake, NULL);
  fixture_connect (fixture);

  casement_qmp_client_get_qemu_version (fixture->client, &major, &minor, &micro);
  g_assert_cmpuint (major, ==, 7);
  g_assert_cmpuint (minor, ==, 2);
  g_assert_cmpuint (micro, ==, 3);

  g_assert_cmpuint (fixture->states->len, ==, 2);
  g_assert_cmpint (g_array_index (fixture->states, CasementQmpState, 0),
                   ==, CASEMENT_QMP_STATE_CONNECTING);
  g_assert_cmpint (g_array_index (fixture->states, CasementQmpState, 1),
                   ==, CASEMENT_QMP_STATE_READY);

  json_parser_load_from_data (parser, "{\"keys\": [\"ctrl\"]}", -1, &error);
  g_assert_no_error (error);
  arguments = json_node_copy (json_parser_get_root (parser));
  execute (fixture->client, "send-key", arguments, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "send-key");
  g_assert_no_error (call.error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (call.reply));
  g_assert_cmpuint (json_object_get_size (json_node_get_object (call.reply)), ==, 0);

  execute (fixture->client, "query-version", NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "query-version");
  g_assert_no_error (call.error);

  /* The reply outlives the message it came in: a reader walking down and
   * back up through it must not meet the discarded message. */
  reader = json_reader_new (call.reply);
  g_assert_true (json_reader_read_member (reader, "qemu"));
  g_assert_true (json_reader_read_member (reader, "major"));
  g_assert_cmpint (json_reader_get_int_value (reader), ==, 7);
  json_reader_end_member (reader);
  json_reader_end_member (reader);
  g_assert_true (json_reader_read_member (reader, "package"));
  g_assert_cmpstr (json_reader_get_string_value (reader), ==, "Debian 1:7.2+dfsg-7");
  json_reader_end_member (reader);
  g_assert_null (json_node_get_parent (call.reply));
  call_clear (&call);

  g_assert_cmpuint (fixture->n_closed, ==, 0);
}

#define N_OUT_OF_ORDER 5

static void
script_out_of_order (FakeServer *server)
{
  gint64 ids[N_OUT_OF_ORDER];
  gint64 values[N_OUT_OF_ORDER];

  fake_handshake (server);

  for (guint i = 0; i < N_OUT_OF_ORDER; i++)
    {
      g_autoptr(JsonObject) arguments = NULL;

      ids[i] = fake_expect (server, "echo", &arguments);
      values[i] = json_object_get_int_member (arguments, "n");
      for (guint j = 0; j < i; j++)
        g_assert_cmpint (ids[i], !=, ids[j]);
    }

  /* Last first, then the even ones, then the odd ones. */
  fake_sendf (server, "{\"return\": {\"n\": %" G_GINT64_FORMAT "}, \"id\": %" G_GINT64_FORMAT "}",
              values[N_OUT_OF_ORDER - 1], ids[N_OUT_OF_ORDER - 1]);
  for (guint parity = 0; parity < 2; parity++)
    for (guint i = parity; i < N_OUT_OF_ORDER - 1; i += 2)
      fake_sendf (server,
                  "{\"id\": %" G_GINT64_FORMAT ", \"return\": {\"n\": %" G_GINT64_FORMAT "}}",
                  ids[i], values[i]);

  fake_expect_eof (server);
}

static void
test_out_of_order (Fixture       *fixture,
                   gconstpointer  data)
{
  Call calls[N_OUT_OF_ORDER] = { { 0 } };

  fixture_start (fixture, script_out_of_order, NULL);
  fixture_connect (fixture);

  for (guint i = 0; i < N_OUT_OF_ORDER; i++)
    {
      g_autoptr(JsonNode) arguments = object_arguments ("n", 100 + i);

      execute (fixture->client, "echo", arguments, NULL, &calls[i]);
    }

  for (guint i = 0; i < N_OUT_OF_ORDER; i++)
    {
      CASEMENT_TEST_WAIT_UNTIL (calls[i].done, WAIT_TIMEOUT_SECONDS, "an echo reply");
      g_assert_no_error (calls[i].error);
      g_assert_cmpint (reply_int (calls[i].reply, "n"), ==, 100 + i);
      call_clear (&calls[i]);
    }
}

static void
script_events (FakeServer *server)
{
  gint64 first, second;

  fake_handshake (server);
  first = fake_expect (server, "stop", NULL);
  second = fake_expect (server, "cont", NULL);

  fake_send (server, "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, "
                     "\"event\": \"STOP\"}");
  fake_sendf (server, "{\"return\": {}, \"id\": %" G_GINT64_FORMAT "}", first);
  fake_send (server, "{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 5}, "
                     "\"event\": \"RESUME\"}");
  fake_send (server, "{\"timestamp\": {\"seconds\": 1700000002, \"microseconds\": 0}, "
                     "\"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": 1073741824}}");
  fake_sendf (server, "{\"return\": {}, \"id\": %" G_GINT64_FORMAT "}", second);
  fake_send (server, "{\"timestamp\": {\"seconds\": 1700000003, \"microseconds\": 999999}, "
                     "\"event\": \"STOP\"}");

  fake_expect_eof (server);
}

static void
count_cb (CasementQmpClient *client,
          const char        *name,
          JsonObject        *data,
          gint64             timestamp,
          guint             *count)
{
  g_assert_cmpstr (name, ==, "STOP");
  (*count)++;
}

static void
test_events (Fixture       *fixture,
             gconstpointer  data)
{
  Call stop = { 0 };
  Call cont = { 0 };
  guint n_stop = 0;
  Event *event;

  g_signal_connect (fixture->client, "event::STOP", G_CALLBACK (count_cb), &n_stop);

  fixture_start (fixture, script_events, NULL);
  fixture_connect (fixture);

  execute (fixture->client, "stop", NULL, NULL, &stop);
  execute (fixture->client, "cont", NULL, NULL, &cont);
  CASEMENT_TEST_WAIT_UNTIL (stop.done, WAIT_TIMEOUT_SECONDS, "stop");
  CASEMENT_TEST_WAIT_UNTIL (cont.done, WAIT_TIMEOUT_SECONDS, "cont");
  g_assert_no_error (stop.error);
  g_assert_no_error (cont.error);
  iterate_until_events (fixture, 4);

  g_assert_cmpuint (fixture->events->len, ==, 4);
  g_assert_cmpuint (n_stop, ==, 2);

  event = g_ptr_array_index (fixture->events, 0);
  g_assert_cmpstr (event->name, ==, "STOP");
  g_assert_null (event->data);
  g_assert_cmpint (event->timestamp, ==, G_GINT64_CONSTANT (1700000000123456));

  event = g_ptr_array_index (fixture->events, 1);
  g_assert_cmpstr (event->name, ==, "RESUME");
  g_assert_cmpint (event->timestamp, ==, G_GINT64_CONSTANT (1700000001000005));

  event = g_ptr_array_index (fixture->events, 2);
  g_assert_cmpstr (event->name, ==, "BALLOON_CHANGE");
  g_assert_nonnull (event->data);
  g_assert_cmpint (json_object_get_int_member (event->data, "actual"), ==, 1073741824);

  event = g_ptr_array_index (fixture->events, 3);
  g_assert_cmpstr (event->name, ==, "STOP");
  g_assert_cmpint (event->timestamp, ==, G_GINT64_CONSTANT (1700000003999999));

  call_clear (&stop);
  call_clear (&cont);
}

#define N_BURST_EVENTS   500
#define N_BURST_COMMANDS 20

static void
script_burst (FakeServer *server)
{
  g_autoptr(GString) burst = g_string_new (NULL);
  gint64 ids[N_BURST_COMMANDS];

  fake_handshake (server);
  for (guint i = 0; i < N_BURST_COMMANDS; i++)
    ids[i] = fake_expect (server, "query-status", NULL);

  /* Replies come back to front, with events between them. */
  for (guint i = 0; i < N_BURST_EVENTS; i++)
    {
      g_string_append_printf (burst,
                              "{\"event\": \"BLOCK_JOB_READY\", \"data\": {\"n\": %u}, "
                              "\"timestamp\": {\"seconds\": %u, \"microseconds\": 0}}\r\n",
                              i, i);
      if (i % (N_BURST_EVENTS / N_BURST_COMMANDS) == 0)
        {
          guint k = N_BURST_COMMANDS - 1 - i / (N_BURST_EVENTS / N_BURST_COMMANDS);

          g_string_append_printf (burst,
                                  "{\"return\": {\"k\": %u}, \"id\": %" G_GINT64_FORMAT "}\r\n",
                                  k, ids[k]);
        }
    }

  fake_send_raw (server, burst->str, burst->len);
  fake_expect_eof (server);
}

static void
test_burst (Fixture       *fixture,
            gconstpointer  data)
{
  Call calls[N_BURST_COMMANDS] = { { 0 } };

  fixture_start (fixture, script_burst, NULL);
  fixture_connect (fixture);

  for (guint i = 0; i < N_BURST_COMMANDS; i++)
    execute (fixture->client, "query-status", NULL, NULL, &calls[i]);

  for (guint i = 0; i < N_BURST_COMMANDS; i++)
    {
      CASEMENT_TEST_WAIT_UNTIL (calls[i].done, WAIT_TIMEOUT_SECONDS, "a reply in the burst");
      g_assert_no_error (calls[i].error);
      g_assert_cmpint (reply_int (calls[i].reply, "k"), ==, i);
      call_clear (&calls[i]);
    }

  iterate_until_events (fixture, N_BURST_EVENTS);

  for (guint i = 0; i < N_BURST_EVENTS; i++)
    {
      Event *event = g_ptr_array_index (fixture->events, i);

      g_assert_cmpstr (event->name, ==, "BLOCK_JOB_READY");
      g_assert_cmpint (json_object_get_int_member (event->data, "n"), ==, i);
      g_assert_cmpint (event->timestamp, ==, (gint64) i * G_USEC_PER_SEC);
    }
}

static void
script_partial_lines (FakeServer *server)
{
  g_autofree char *reply = NULL;
  gint64 id;

  /* The greeting in 3-byte pieces, and the CRLF split between writes. */
  fake_dribble (server, GREETING "\r", 3, 1000);
  fake_dribble (server, "\n", 1, 1000);
  id = fake_expect (server, "qmp_capabilities", NULL);
  reply = g_strdup_printf ("{\"return\": {}, \"id\": %" G_GINT64_FORMAT "}\r\n", id);
  fake_dribble (server, reply, 1, 500);
  g_clear_pointer (&reply, g_free);

  id = fake_expect (server, "query-name", NULL);
  /* An event and the reply's first half in one write, the rest later; an
   * empty line in between is ignored. */
  reply = g_strdup_printf ("{\"event\": \"POWERDOWN\", "
                           "\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n"
                           "\r\n"
                           "{\"return\": {\"name\": \"a \\u00e9t\u00e9 \\r\\n VM\"}, "
                           "\"id\": %" G_GINT64_FORMAT "}\r\n",
                           id);
  fake_send_raw (server, reply, strlen (reply) - 20);
  g_usleep (20000);
  fake_dribble (server, reply + strlen (reply) - 20, 7, 2000);

  fake_expect_eof (server);
}

static void
test_partial_lines (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  Event *event;

  fixture_start (fixture, script_partial_lines, NULL);
  fixture_connect (fixture);

  reply = execute_sync (fixture->client, "query-name", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "name"),
                   ==, "a été \r\n VM");

  g_assert_cmpuint (fixture->events->len, ==, 1);
  event = g_ptr_array_index (fixture->events, 0);
  g_assert_cmpstr (event->name, ==, "POWERDOWN");
  g_assert_cmpint (event->timestamp, ==, 1000002);
}

#define LARGE_SIZE (4 * 1024 * 1024)

static void
script_large (FakeServer *server)
{
  g_autoptr(JsonObject) arguments = NULL;
  g_autoptr(GString) reply = g_string_new (NULL);
  const char *blob;
  gint64 id;

  fake_handshake (server);

  /* Let the client's writer find the socket buffer full for a while. */
  g_usleep (500000);
  g_atomic_int_set (&server->reading, TRUE);
  id = fake_expect (server, "store", &arguments);
  blob = json_object_get_string_member (arguments, "blob");
  g_assert_cmpuint (strlen (blob), ==, LARGE_SIZE);
  for (gsize i = 0; i < LARGE_SIZE; i++)
    g_assert_true (blob[i] == (char) ('a' + i % 26));

  g_string_append (reply, "{\"return\": {\"blob\": \"");
  for (gsize i = 0; i < LARGE_SIZE; i++)
    g_string_append_c (reply, 'z' - i % 26);
  g_string_append_printf (reply, "\"}, \"id\": %" G_GINT64_FORMAT "}\r\n", id);
  fake_send_raw (server, reply->str, reply->len);

  fake_expect_eof (server);
}

static gboolean
tick_cb (gpointer user_data)
{
  guint *ticks = user_data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

static void
test_large (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) arguments = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *blob = g_malloc (LARGE_SIZE + 1);
  Call call = { 0 };
  const char *returned;
  guint ticks = 0;
  guint tick_id;

  for (gsize i = 0; i < LARGE_SIZE; i++)
    blob[i] = 'a' + i % 26;
  blob[LARGE_SIZE] = '\0';
  json_object_set_string_member (object, "blob", blob);
  json_node_set_object (arguments, object);

  fixture_start (fixture, script_large, NULL);
  fixture_connect (fixture);

  tick_id = g_timeout_add (10, tick_cb, &ticks);
  execute (fixture->client, "store", arguments, NULL, &call);
  /* The command is far bigger than the socket buffer: a blocking write
   * would not return before the server starts reading. */
  g_assert_false (g_atomic_int_get (&fixture->server.reading));
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "the large reply");
  g_source_remove (tick_id);

  g_assert_no_error (call.error);
  returned = json_object_get_string_member (json_node_get_object (call.reply), "blob");
  g_assert_cmpuint (strlen (returned), ==, LARGE_SIZE);
  for (gsize i = 0; i < LARGE_SIZE; i++)
    g_assert_true (returned[i] == (char) ('z' - i % 26));
  g_assert_cmpuint (ticks, >=, 5);
  g_test_message ("main loop ticks while 2 x %d bytes crossed the socket: %u", LARGE_SIZE, ticks);
  call_clear (&call);
}

static void
script_error_reply (FakeServer *server)
{
  gint64 id;

  fake_handshake (server);

  id = fake_expect (server, "blockdev-change-medium", NULL);
  fake_sendf (server, "{\"id\": %" G_GINT64_FORMAT ", \"error\": {\"class\": \"GenericError\", "
                      "\"desc\": \"Device 'cd0' not found\"}}", id);
  id = fake_expect (server, "query-odd", NULL);
  fake_sendf (server, "{\"id\": %" G_GINT64_FORMAT ", \"surprise\": true}", id);
  id = fake_expect (server, "query-status", NULL);
  fake_sendf (server, "{\"id\": %" G_GINT64_FORMAT ", \"return\": {\"status\": \"running\"}}", id);

  fake_expect_eof (server);
}

static void
test_error_reply (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  Call call = { 0 };

  fixture_start (fixture, script_error_reply, NULL);
  fixture_connect (fixture);

  reply = execute_sync (fixture->client, "blockdev-change-medium", &error);
  g_assert_null (reply);
  g_assert_error (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_COMMAND_FAILED);
  g_assert_cmpstr (error->message, ==, "Device 'cd0' not found");
  g_assert_cmpstr (casement_qmp_error_get_qmp_class (error), ==, "GenericError");
  g_clear_error (&error);

  /* A reply that is neither a result nor an error fails its command only. */
  execute (fixture->client, "query-odd", NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "query-odd");
  g_assert_error (call.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL);
  g_assert_null (casement_qmp_error_get_qmp_class (call.error));
  call_clear (&call);

  reply = execute_sync (fixture->client, "query-status", &error);
  g_assert_no_error (error);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_READY);
}

static void
script_unknown_replies (FakeServer *server)
{
  gint64 id;

  fake_handshake (server);
  id = fake_expect (server, "query-status", NULL);

  fake_send (server, "{\"return\": {}, \"id\": 123456789}");
  fake_send (server, "{\"return\": {}}");
  fake_send (server, "{\"return\": {}, \"id\": \"casement\"}");
  fake_send (server, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}");
  fake_send (server, "{\"something\": \"else\"}");
  fake_send (server, GREETING);
  fake_sendf (server, "{\"return\": {\"status\": \"paused\"}, \"id\": %" G_GINT64_FORMAT "}", id);

  fake_expect_eof (server);
}

static void
test_unknown_replies (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (fixture, script_unknown_replies, NULL);
  fixture_connect (fixture);

  reply = execute_sync (fixture->client, "query-status", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "status"),
                   ==, "paused");
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_READY);
  g_assert_cmpuint (fixture->events->len, ==, 0);
  g_assert_cmpuint (fixture->n_closed, ==, 0);
}

static void
script_server_closes (FakeServer *server)
{
  fake_handshake (server);
  fake_expect (server, "system_powerdown", NULL);
  fake_expect (server, "query-status", NULL);
  fake_expect (server, "query-balloon", NULL);
  fake_send (server, "{\"event\": \"SHUTDOWN\", "
                     "\"data\": {\"guest\": false, \"reason\": \"host-signal\"}, "
                     "\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
  fake_close (server);
}

static void
test_server_closes (Fixture       *fixture,
                    gconstpointer  data)
{
  const char *commands[] = { "system_powerdown", "query-status", "query-balloon" };
  Call calls[G_N_ELEMENTS (commands)] = { { 0 } };
  Call late = { 0 };

  fixture_start (fixture, script_server_closes, NULL);
  fixture_connect (fixture);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    execute (fixture->client, commands[i], NULL, NULL, &calls[i]);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      CASEMENT_TEST_WAIT_UNTIL (calls[i].done, WAIT_TIMEOUT_SECONDS, commands[i]);
      g_assert_error (calls[i].error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
      g_assert_nonnull (strstr (calls[i].error->message, commands[i]));
      call_clear (&calls[i]);
    }

  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_CLOSED);
  g_assert_cmpuint (fixture->n_closed, ==, 1);
  g_assert_error (fixture->closed_reason, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  g_assert_cmpuint (fixture->events->len, ==, 1);

  casement_qmp_client_close (fixture->client);
  casement_qmp_client_close (fixture->client);
  drain_main_context ();
  g_assert_cmpuint (fixture->n_closed, ==, 1);

  execute (fixture->client, "query-status", NULL, NULL, &late);
  CASEMENT_TEST_WAIT_UNTIL (late.done, WAIT_TIMEOUT_SECONDS, "a command after the close");
  g_assert_error (late.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  call_clear (&late);

  g_assert_cmpuint (fixture->states->len, ==, 3);
  g_assert_cmpint (g_array_index (fixture->states, CasementQmpState, 2),
                   ==, CASEMENT_QMP_STATE_CLOSED);
}

/* Closing with the client's command unread makes the kernel reset the
 * connection, as QEMU does when it exits right after "quit". */
static void
script_reset (FakeServer *server)
{
  fake_handshake (server);
  g_usleep (100000);
  fake_close (server);
}

static void
test_server_resets (Fixture       *fixture,
                    gconstpointer  data)
{
  Call call = { 0 };

  fixture_start (fixture, script_reset, NULL);
  fixture_connect (fixture);

  execute (fixture->client, "query-status", NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "query-status");
  g_assert_error (call.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  g_assert_cmpuint (fixture->n_closed, ==, 1);
  g_assert_error (fixture->closed_reason, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  call_clear (&call);
}

static void
script_send_data (FakeServer *server)
{
  const char *text = server->data;

  fake_send_raw (server, text, strlen (text));
  fake_expect_eof (server);
}

static void
script_greet_then_send_data (FakeServer *server)
{
  const char *text = server->data;

  fake_handshake (server);
  fake_expect (server, "query-status", NULL);
  fake_send_raw (server, text, strlen (text));
  fake_expect_eof (server);
}

static void
test_not_qmp (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture_start (fixture, script_send_data, data);

  g_assert_false (fixture_try_connect (fixture, &error));
  g_assert_error (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_CLOSED);
  g_assert_cmpuint (fixture->n_closed, ==, 1);
  g_assert_error (fixture->closed_reason, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL);
}

static void
test_garbage_after_greeting (Fixture       *fixture,
                             gconstpointer  data)
{
  Call call = { 0 };

  fixture_start (fixture, script_greet_then_send_data, data);
  fixture_connect (fixture);

  execute (fixture->client, "query-status", NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "query-status");
  g_assert_error (call.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_CLOSED);
  g_assert_cmpuint (fixture->n_closed, ==, 1);
  g_assert_error (fixture->closed_reason, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_PROTOCOL);
  g_test_message ("%s", fixture->closed_reason->message);
  call_clear (&call);
}

static void
script_cancel (FakeServer *server)
{
  gint64 slow, other, marker;

  fake_handshake (server);
  slow = fake_expect (server, "slow", NULL);
  other = fake_expect (server, "other", NULL);
  /* The command cancelled before it was sent never arrives. */
  marker = fake_expect (server, "marker", NULL);

  /* Answer only after the client has given up on "slow". */
  g_usleep (100000);
  fake_sendf (server, "{\"return\": {\"from\": \"slow\"}, \"id\": %" G_GINT64_FORMAT "}", slow);
  fake_sendf (server, "{\"return\": {\"from\": \"other\"}, \"id\": %" G_GINT64_FORMAT "}", other);
  fake_sendf (server, "{\"return\": {}, \"id\": %" G_GINT64_FORMAT "}", marker);

  fake_expect_eof (server);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  Call slow = { 0 };
  Call other = { 0 };
  Call never = { 0 };
  Call marker = { 0 };

  fixture_start (fixture, script_cancel, NULL);
  fixture_connect (fixture);

  execute (fixture->client, "slow", NULL, cancellable, &slow);
  execute (fixture->client, "other", NULL, NULL, &other);
  g_cancellable_cancel (cancelled);
  execute (fixture->client, "never", NULL, cancelled, &never);
  execute (fixture->client, "marker", NULL, NULL, &marker);

  g_cancellable_cancel (cancellable);
  CASEMENT_TEST_WAIT_UNTIL (slow.done, WAIT_TIMEOUT_SECONDS, "the cancelled command");
  g_assert_error (slow.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (other.done);

  CASEMENT_TEST_WAIT_UNTIL (never.done, WAIT_TIMEOUT_SECONDS, "the command cancelled in advance");
  g_assert_error (never.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  CASEMENT_TEST_WAIT_UNTIL (other.done, WAIT_TIMEOUT_SECONDS, "the other command");
  g_assert_no_error (other.error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (other.reply), "from"),
                   ==, "other");
  CASEMENT_TEST_WAIT_UNTIL (marker.done, WAIT_TIMEOUT_SECONDS, "the marker command");
  g_assert_no_error (marker.error);

  /* The late reply to "slow" was dropped, not handed to anyone. */
  g_assert_true (slow.done);
  g_assert_null (slow.reply);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_READY);

  call_clear (&slow);
  call_clear (&other);
  call_clear (&never);
  call_clear (&marker);
}

static void
script_dribble (FakeServer *server)
{
  g_autofree char *reply = NULL;
  gint64 id;

  fake_handshake (server);
  id = fake_expect (server, "query-status", NULL);
  reply = g_strdup_printf ("{\"return\": {\"status\": \"running\", \"singlestep\": false, "
                           "\"running\": true}, \"id\": %" G_GINT64_FORMAT "}\r\n", id);
  fake_dribble (server, reply, 1, 5000);
  fake_expect_eof (server);
}

static void
test_no_blocking (Fixture       *fixture,
                  gconstpointer  data)
{
  Call call = { 0 };
  guint ticks = 0;
  guint tick_id;
  gint64 start, elapsed;

  fixture_start (fixture, script_dribble, NULL);
  fixture_connect (fixture);

  tick_id = g_timeout_add (10, tick_cb, &ticks);
  start = g_get_monotonic_time ();
  execute (fixture->client, "query-status", NULL, NULL, &call);
  CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "the dribbled reply");
  elapsed = g_get_monotonic_time () - start;
  g_source_remove (tick_id);

  g_assert_no_error (call.error);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (call.reply), "running"));

  /* About 90 bytes at ≥ 5 ms each: a client that blocked on a partial
   * line would starve the 10 ms timeout all along. */
  g_assert_cmpint (elapsed, >=, 400000);
  g_assert_cmpuint (ticks, >=, 10);
  g_test_message ("%u timeout ticks of 10 ms during a %" G_GINT64_FORMAT " ms dribbled reply",
                  ticks, elapsed / 1000);
  call_clear (&call);
}

/* Both commands stay unanswered; the event tells the client they arrived. */
static void
script_wait_for_eof (FakeServer *server)
{
  fake_handshake (server);
  fake_expect (server, "query-status", NULL);
  fake_expect (server, "query-name", NULL);
  fake_send (server,
             "{\"event\": \"RECEIVED\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
  fake_expect_eof (server);
}

static void
test_close (Fixture       *fixture,
            gconstpointer  data)
{
  Call first = { 0 };
  Call second = { 0 };

  fixture_start (fixture, script_wait_for_eof, NULL);
  fixture_connect (fixture);

  execute (fixture->client, "query-status", NULL, NULL, &first);
  execute (fixture->client, "query-name", NULL, NULL, &second);
  iterate_until_events (fixture, 1);

  casement_qmp_client_close (fixture->client);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_CLOSED);
  g_assert_cmpuint (fixture->n_closed, ==, 1);
  g_assert_true (fixture->closed_with_null);
  casement_qmp_client_close (fixture->client);
  g_assert_cmpuint (fixture->n_closed, ==, 1);

  CASEMENT_TEST_WAIT_UNTIL (first.done, WAIT_TIMEOUT_SECONDS, "query-status");
  CASEMENT_TEST_WAIT_UNTIL (second.done, WAIT_TIMEOUT_SECONDS, "query-name");
  g_assert_error (first.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  g_assert_error (second.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  call_clear (&first);
  call_clear (&second);

  /* The server sees the end of the stream while the client still exists. */
  fake_server_join (&fixture->server);
}

static void
script_handshake_then_eof (FakeServer *server)
{
  fake_handshake (server);
  fake_expect_eof (server);
}

static void
test_dispose (Fixture       *fixture,
              gconstpointer  data)
{
  CasementQmpClient *client;

  fixture_start (fixture, script_handshake_then_eof, NULL);
  fixture_connect (fixture);

  /* Dropping the only reference while the read loop waits must finalize
   * the client, close the socket and leave nothing running. */
  client = g_steal_pointer (&fixture->client);
  g_signal_handlers_disconnect_by_data (client, fixture);
  g_assert_finalize_object (client);

  fake_server_join (&fixture->server);
  drain_main_context ();

  fixture->client = casement_qmp_client_new ();
}

static void
script_silent (FakeServer *server)
{
  fake_expect_eof (server);
}

static void
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_connect_cancel (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (fixture, script_silent, NULL);

  casement_qmp_client_connect_stream_async (fixture->client, fixture->client_stream, cancellable,
                                            casement_test_store_result_cb, &result);
  g_timeout_add_once (50, cancel_cb, cancellable);
  casement_test_await_result (&result, WAIT_TIMEOUT_SECONDS, "the cancelled connect");

  g_assert_false (casement_qmp_client_connect_stream_finish (fixture->client, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (casement_qmp_client_get_state (fixture->client), ==, CASEMENT_QMP_STATE_CLOSED);
  g_assert_cmpuint (fixture->n_closed, ==, 1);

  fake_server_join (&fixture->server);
}

/* ---------------------------------------------------------------------------
 * connect_async over a real unix socket in a temporary folder.
 */

typedef struct
{
  GSocketListener *listener;
  FakeServer       server;
} AcceptingServer;

static gpointer
accept_thread (gpointer user_data)
{
  AcceptingServer *accepting = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_listener_accept (accepting->listener, NULL, NULL, &error);
  g_assert_no_error (error);

  accepting->server.stream = g_object_ref (G_IO_STREAM (connection));
  accepting->server.input =
    g_data_input_stream_new (g_io_stream_get_input_stream (accepting->server.stream));
  accepting->server.output = g_io_stream_get_output_stream (accepting->server.stream);

  script_wait_for_eof (&accepting->server);

  g_clear_object (&accepting->server.input);
  g_clear_object (&accepting->server.stream);
  return NULL;
}

static void
set_true (gboolean *flag)
{
  *flag = TRUE;
}

static gboolean
try_connect_path (CasementQmpClient  *client,
                  const char         *path,
                  GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_qmp_client_connect_async (client, path, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, WAIT_TIMEOUT_SECONDS, "connect");

  return casement_qmp_client_connect_finish (client, result, error);
}

static void
test_unix_socket (void)
{
  g_autoptr(CasementQmpClient) client = casement_qmp_client_new ();
  g_autoptr(CasementQmpClient) missing = casement_qmp_client_new ();
  g_autoptr(CasementQmpClient) too_long = casement_qmp_client_new ();
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *missing_path = NULL;
  g_autofree char *long_path = NULL;
  AcceptingServer accepting = { 0 };
  gboolean received = FALSE;
  Call first = { 0 };
  Call second = { 0 };
  GThread *thread;

  dir = g_dir_make_tmp ("casement-qmp-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "qmp.sock", NULL);
  missing_path = g_build_filename (dir, "missing.sock", NULL);

  accepting.listener = g_socket_listener_new ();
  address = g_unix_socket_address_new (path);
  g_socket_listener_add_address (accepting.listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("accept", accept_thread, &accepting);

  g_assert_true (try_connect_path (client, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (casement_qmp_client_get_state (client), ==, CASEMENT_QMP_STATE_READY);

  g_signal_connect_swapped (client, "event::RECEIVED", G_CALLBACK (set_true), &received);
  execute (client, "query-status", NULL, NULL, &first);
  execute (client, "query-name", NULL, NULL, &second);
  CASEMENT_TEST_WAIT_UNTIL (received, WAIT_TIMEOUT_SECONDS, "the server to receive both commands");
  casement_qmp_client_close (client);
  CASEMENT_TEST_WAIT_UNTIL (first.done, WAIT_TIMEOUT_SECONDS, "query-status");
  CASEMENT_TEST_WAIT_UNTIL (second.done, WAIT_TIMEOUT_SECONDS, "query-name");
  g_assert_error (first.error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);
  call_clear (&first);
  call_clear (&second);
  g_thread_join (thread);

  /* Nobody listening: the error names the socket. */
  g_assert_false (try_connect_path (missing, missing_path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing_path));
  g_assert_cmpint (casement_qmp_client_get_state (missing), ==, CASEMENT_QMP_STATE_CLOSED);
  g_clear_error (&error);

  long_path = g_strnfill (200, 'x');
  g_assert_false (try_connect_path (too_long, long_path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG);
  g_assert_cmpint (casement_qmp_client_get_state (too_long), ==, CASEMENT_QMP_STATE_CLOSED);

  g_socket_listener_close (accepting.listener);
  g_clear_object (&accepting.listener);
  drain_main_context ();
  g_assert_finalize_object (g_steal_pointer (&client));
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ---------------------------------------------------------------------------
 * Integration tests against a real QEMU under TCG (no guest needed: -S).
 */

typedef struct
{
  char        *dir;
  char        *socket_path;
  GSubprocess *process;
  gboolean     exited;
} Qemu;

static void
qemu_wait_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Qemu *qemu = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  qemu->exited = TRUE;
}

/* Whether a process listens on the unix socket at @path: its line in
 * /proc/net/unix has the accepting flag (__SO_ACCEPTCON, 0x10000). Unlike
 * a trial connection, this does not take QMP's one client slot. */
static gboolean
unix_socket_is_listening (const char *path)
{
  g_autofree char *table = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/net/unix", &table, NULL, NULL))
    return g_file_test (path, G_FILE_TEST_EXISTS);

  lines = g_strsplit (table, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (lines[i], " ", -1);
      g_autoptr(GPtrArray) words = g_ptr_array_new ();

      for (guint j = 0; fields[j] != NULL; j++)
        if (fields[j][0] != '\0')
          g_ptr_array_add (words, fields[j]);

      /* Num RefCount Protocol Flags Type St Inode Path */
      if (words->len == 8 && g_strcmp0 (g_ptr_array_index (words, 7), path) == 0 &&
          (g_ascii_strtoull (g_ptr_array_index (words, 3), NULL, 16) & 0x10000) != 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
qemu_start (Qemu *qemu)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *binary = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *qmp = NULL;

  if (!(binary = g_find_program_in_path ("qemu-system-x86_64")))
    {
      g_test_skip ("qemu-system-x86_64 is not installed");
      return FALSE;
    }

  qemu->dir = g_dir_make_tmp ("casement-qmp-XXXXXX", &error);
  g_assert_no_error (error);
  qemu->socket_path = g_build_filename (qemu->dir, "qmp.sock", NULL);
  escaped = casement_qemu_escape (qemu->socket_path);
  qmp = g_strdup_printf ("unix:%s,server=on,wait=off", escaped);

  /* QEMU must not outlive a test that aborts halfway. */
  casement_test_kill_on_abort (qemu->dir);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  qemu->process = g_subprocess_launcher_spawn (launcher, &error,
                                               binary,
                                               "-machine", "q35",
                                               "-accel", "tcg",
                                               "-nodefaults",
                                               "-display", "none",
                                               "-m", "128",
                                               "-S",
                                               "-qmp", qmp,
                                               NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (qemu->process, NULL, qemu_wait_cb, qemu);

  /* QEMU creates the socket early in its start, and listens on it a
   * moment later: poll rather than race. */
  CASEMENT_TEST_WAIT_UNTIL (unix_socket_is_listening (qemu->socket_path) || qemu->exited,
                            WAIT_TIMEOUT_SECONDS, "QEMU's QMP socket");

  g_assert_false (qemu->exited);
  return TRUE;
}

static void
qemu_clear (Qemu *qemu)
{
  if (qemu->process != NULL && !qemu->exited)
    {
      g_subprocess_force_exit (qemu->process);
      CASEMENT_TEST_WAIT_UNTIL (qemu->exited, WAIT_TIMEOUT_SECONDS, "QEMU to be killed");
    }
  g_clear_object (&qemu->process);

  if (qemu->socket_path != NULL)
    g_unlink (qemu->socket_path);
  if (qemu->dir != NULL)
    g_assert_cmpint (g_rmdir (qemu->dir), ==, 0);
  g_clear_pointer (&qemu->socket_path, g_free);
  g_clear_pointer (&qemu->dir, g_free);
}

static void
qemu_binary_version (guint *major,
                     guint *minor,
                     guint *micro)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                              "qemu-system-x86_64", "-version", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sscanf (output, "QEMU emulator version %u.%u.%u", major, minor, micro), ==, 3);
}

static const char *
status_of (JsonNode *reply)
{
  g_assert_nonnull (reply);
  return json_object_get_string_member (json_node_get_object (reply), "status");
}

static gboolean
qemu_connect (Qemu     *qemu,
              Fixture  *fixture)
{
  g_autoptr(GError) error = NULL;

  if (!qemu_start (qemu))
    return FALSE;

  fixture_watch_client (fixture);
  g_assert_true (try_connect_path (fixture->client, qemu->socket_path, &error));
  g_assert_no_error (error);
  return TRUE;
}

static void
qemu_fixture_clear (Fixture *fixture)
{
  if (fixture->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (fixture->client, fixture);
      g_assert_finalize_object (g_steal_pointer (&fixture->client));
    }
  drain_main_context ();
  g_clear_pointer (&fixture->events, g_ptr_array_unref);
  g_clear_pointer (&fixture->states, g_array_unref);
  g_clear_error (&fixture->closed_reason);
}

static gboolean
has_event (Fixture    *fixture,
           const char *name)
{
  for (guint i = 0; i < fixture->events->len; i++)
    if (g_strcmp0 (((Event *)g_ptr_array_index (fixture->events, i))->name, name) == 0)
      return TRUE;
  return FALSE;
}

static void
wait_for_event (Fixture    *fixture,
                const char *name)
{
  g_autofree char *what = g_strdup_printf ("the %s event", name);

  CASEMENT_TEST_WAIT_UNTIL (has_event (fixture, name), WAIT_TIMEOUT_SECONDS, what);
}

static void
test_qemu_lifecycle (void)
{
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  Fixture fixture = { 0 };
  Qemu qemu = { 0 };
  guint major, minor, micro;
  guint expected_major, expected_minor, expected_micro;
  Event *last;

  if (!qemu_connect (&qemu, &fixture))
    return;

  qemu_binary_version (&expected_major, &expected_minor, &expected_micro);
  casement_qmp_client_get_qemu_version (fixture.client, &major, &minor, &micro);
  g_test_message ("QMP greeting: QEMU %u.%u.%u", major, minor, micro);
  g_assert_cmpuint (major, ==, expected_major);
  g_assert_cmpuint (minor, ==, expected_minor);
  g_assert_cmpuint (micro, ==, expected_micro);

  reply = execute_sync (fixture.client, "query-status", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status_of (reply), ==, "prelaunch");
  g_assert_false (json_object_get_boolean_member (json_node_get_object (reply), "running"));
  g_clear_pointer (&reply, json_node_unref);

  reply = execute_sync (fixture.client, "cont", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, json_node_unref);
  wait_for_event (&fixture, "RESUME");

  reply = execute_sync (fixture.client, "query-status", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status_of (reply), ==, "running");
  g_clear_pointer (&reply, json_node_unref);

  reply = execute_sync (fixture.client, "stop", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, json_node_unref);
  wait_for_event (&fixture, "STOP");

  reply = execute_sync (fixture.client, "query-status", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status_of (reply), ==, "paused");
  g_clear_pointer (&reply, json_node_unref);

  reply = execute_sync (fixture.client, "casement-no-such-command", &error);
  g_assert_null (reply);
  g_assert_error (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_COMMAND_FAILED);
  g_assert_cmpstr (error->message, ==, "The command casement-no-such-command has not been found");
  g_assert_cmpstr (casement_qmp_error_get_qmp_class (error), ==, "CommandNotFound");
  g_clear_error (&error);

  reply = execute_sync (fixture.client, "quit", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, json_node_unref);
  CASEMENT_TEST_WAIT_UNTIL (fixture.closed, WAIT_TIMEOUT_SECONDS, "the QMP connection to close");
  g_assert_cmpuint (fixture.n_closed, ==, 1);
  g_assert_error (fixture.closed_reason, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED);

  /* SHUTDOWN arrived, and before the end of the stream. */
  last = g_ptr_array_index (fixture.events, fixture.events->len - 1);
  g_assert_cmpstr (last->name, ==, "SHUTDOWN");
  g_assert_cmpstr (json_object_get_string_member (last->data, "reason"), ==, "host-qmp-quit");
  g_assert_cmpint (last->timestamp, >, 0);

  CASEMENT_TEST_WAIT_UNTIL (qemu.exited, WAIT_TIMEOUT_SECONDS, "QEMU to exit");
  g_assert_true (g_subprocess_get_if_exited (qemu.process));
  g_assert_cmpint (g_subprocess_get_exit_status (qemu.process), ==, 0);

  qemu_fixture_clear (&fixture);
  qemu_clear (&qemu);
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *)a;
  gint64 y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

#define N_ROUND_TRIPS 200

static void
test_qemu_round_trip (void)
{
  g_autoptr(GArray) times = g_array_sized_new (FALSE, FALSE, sizeof (gint64), N_ROUND_TRIPS);
  Fixture fixture = { 0 };
  Qemu qemu = { 0 };
  guint major, minor, micro;
  gint64 median;

  if (!qemu_connect (&qemu, &fixture))
    return;

  for (guint i = 0; i < N_ROUND_TRIPS; i++)
    {
      Call call = { 0 };
      gint64 start = g_get_monotonic_time ();
      gint64 elapsed;

      execute (fixture.client, "query-status", NULL, NULL, &call);
      CASEMENT_TEST_WAIT_UNTIL (call.done, WAIT_TIMEOUT_SECONDS, "query-status");
      elapsed = g_get_monotonic_time () - start;
      g_assert_no_error (call.error);
      g_assert_cmpstr (status_of (call.reply), ==, "prelaunch");
      call_clear (&call);

      g_array_append_val (times, elapsed);
    }

  g_array_sort (times, compare_gint64);
  median = (g_array_index (times, gint64, N_ROUND_TRIPS / 2 - 1) +
            g_array_index (times, gint64, N_ROUND_TRIPS / 2)) / 2;
  casement_qmp_client_get_qemu_version (fixture.client, &major, &minor, &micro);
  g_test_message ("QMP query-status round trip against QEMU %u.%u.%u under TCG (-S), %u calls: "
                  "median %" G_GINT64_FORMAT " us, min %" G_GINT64_FORMAT " us, "
                  "p90 %" G_GINT64_FORMAT " us, max %" G_GINT64_FORMAT " us",
                  major, minor, micro, N_ROUND_TRIPS, median,
                  g_array_index (times, gint64, 0),
                  g_array_index (times, gint64, N_ROUND_TRIPS * 9 / 10),
                  g_array_index (times, gint64, N_ROUND_TRIPS - 1));
  g_assert_cmpint (median, <, G_USEC_PER_SEC);

  casement_qmp_client_close (fixture.client);
  g_subprocess_send_signal (qemu.process, SIGTERM);
  CASEMENT_TEST_WAIT_UNTIL (qemu.exited, WAIT_TIMEOUT_SECONDS, "QEMU to exit on SIGTERM");

  qemu_fixture_clear (&fixture);
  qemu_clear (&qemu);
}

#define ADD_FIXTURE_TEST(path, func, data) \
  g_test_add ("/Casement/QmpClient/" path, Fixture, data, fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  ADD_FIXTURE_TEST ("handshake", test_handshake, NULL);
  ADD_FIXTURE_TEST ("out-of-order", test_out_of_order, NULL);
  ADD_FIXTURE_TEST ("events", test_events, NULL);
  ADD_FIXTURE_TEST ("burst", test_burst, NULL);
  ADD_FIXTURE_TEST ("partial-lines", test_partial_lines, NULL);
  ADD_FIXTURE_TEST ("large", test_large, NULL);
  ADD_FIXTURE_TEST ("error-reply", test_error_reply, NULL);
  ADD_FIXTURE_TEST ("unknown-replies", test_unknown_replies, NULL);
  ADD_FIXTURE_TEST ("server-closes", test_server_closes, NULL);
  ADD_FIXTURE_TEST ("server-resets", test_server_resets, NULL);
  ADD_FIXTURE_TEST ("not-qmp/ssh", test_not_qmp, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  ADD_FIXTURE_TEST ("not-qmp/json", test_not_qmp, "{\"hello\": \"world\"}\r\n");
  ADD_FIXTURE_TEST ("not-qmp/binary", test_not_qmp, "\xff\xfe\x01\n");
  ADD_FIXTURE_TEST ("garbage-after-greeting", test_garbage_after_greeting, "{\"return\": \n");
  ADD_FIXTURE_TEST ("cancel", test_cancel, NULL);
  ADD_FIXTURE_TEST ("no-blocking", test_no_blocking, NULL);
  ADD_FIXTURE_TEST ("close", test_close, NULL);
  ADD_FIXTURE_TEST ("dispose", test_dispose, NULL);
  ADD_FIXTURE_TEST ("connect-cancel", test_connect_cancel, NULL);
  g_test_add_func ("/Casement/QmpClient/unix-socket", test_unix_socket);
  g_test_add_func ("/Casement/QmpClient/qemu/lifecycle", test_qemu_lifecycle);
  g_test_add_func ("/Casement/QmpClient/qemu/round-trip", test_qemu_round_trip);

  return g_test_run ();
}
