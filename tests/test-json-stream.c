/* test-json-stream.c
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

/* CasementJsonStream against a real GSocketListener on a unix socket in a
 * temporary folder: lines both ways, the ways a stream ends, and its
 * connect errors. The peer's side runs on the same main loop, async, so
 * nothing here blocks while the stream needs the loop. */

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "casement-json-stream.h"
#include "casement-test-util.h"

#define TIMEOUT_S 20

typedef struct
{
  char               *dir;
  char               *path;
  GSocketListener    *listener;
  GSocketConnection  *peer;
  GDataInputStream   *peer_input;
  CasementJsonStream *stream;
  GPtrArray          *events;     /* "line:<text>" or "closed:<code>", in order */
  GError             *reason;
} Fixture;

static void
on_line (CasementJsonStream *stream,
         GBytes             *line,
         Fixture            *fixture)
{
  gsize length;
  const char *data = g_bytes_get_data (line, &length);

  g_ptr_array_add (fixture->events, g_strdup_printf ("line:%.*s", (int) length, data));
}

static void
on_closed (CasementJsonStream *stream,
           const GError       *reason,
           Fixture            *fixture)
{
  g_assert_nonnull (reason);
  g_ptr_array_add (fixture->events, g_strdup_printf ("closed:%d", reason->code));
  g_clear_error (&fixture->reason);
  fixture->reason = g_error_copy (reason);
}

static CasementJsonStream *
watched_stream_new (Fixture *fixture)
{
  CasementJsonStream *stream = casement_json_stream_new ();

  g_signal_connect (stream, "line", G_CALLBACK (on_line), fixture);
  g_signal_connect (stream, "closed", G_CALLBACK (on_closed), fixture);
  return stream;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("casement-json-stream-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "qmp.sock", NULL);
  fixture->listener = g_socket_listener_new ();
  address = g_unix_socket_address_new (fixture->path);
  g_socket_listener_add_address (fixture->listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
  g_assert_no_error (error);
  fixture->events = g_ptr_array_new_with_free_func (g_free);
  fixture->stream = watched_stream_new (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->peer != NULL)
    g_io_stream_close (G_IO_STREAM (fixture->peer), NULL, NULL);
  g_clear_object (&fixture->peer_input);
  g_clear_object (&fixture->peer);

  /* Nothing in flight may keep the stream alive once closed. */
  casement_json_stream_close (fixture->stream);
  casement_test_spin (50);
  g_assert_finalize_object (g_steal_pointer (&fixture->stream));

  g_socket_listener_close (fixture->listener);
  g_clear_object (&fixture->listener);
  g_assert_cmpint (g_unlink (fixture->path), ==, 0);
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);
  g_clear_pointer (&fixture->path, g_free);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->events, g_ptr_array_unref);
  g_clear_error (&fixture->reason);
}

/* Connects the stream and accepts it as the peer. */
static void
fixture_connect (Fixture *fixture)
{
  g_autoptr(GAsyncResult) accepted = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_DISCONNECTED);

  g_socket_listener_accept_async (fixture->listener, NULL, casement_test_store_result_cb, &accepted);
  casement_json_stream_connect (fixture->stream, fixture->path);
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_CONNECTING);

  CASEMENT_TEST_WAIT_UNTIL (casement_json_stream_get_state (fixture->stream) != CASEMENT_JSON_STREAM_STATE_CONNECTING,
                            TIMEOUT_S, "the stream to connect");
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_OPEN);

  casement_test_await_result (&accepted, TIMEOUT_S, "the listener to accept");
  fixture->peer = g_socket_listener_accept_finish (fixture->listener, accepted, NULL, &error);
  g_assert_no_error (error);
  fixture->peer_input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (fixture->peer)));
  g_data_input_stream_set_newline_type (fixture->peer_input, G_DATA_STREAM_NEWLINE_TYPE_LF);
}

static void
peer_write (Fixture    *fixture,
            const void *data,
            gsize       size)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (fixture->peer));

  g_output_stream_write_all_async (output, data, size, G_PRIORITY_DEFAULT, NULL,
                                   casement_test_store_result_cb, &result);
  casement_test_await_result (&result, TIMEOUT_S, "the peer's write");
  g_assert_true (g_output_stream_write_all_finish (output, result, NULL, &error));
  g_assert_no_error (error);
}

/* Returns the next line the peer got, or NULL at the end of the stream. */
static char *
peer_read_line (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *line;

  g_data_input_stream_read_line_async (fixture->peer_input, G_PRIORITY_DEFAULT, NULL,
                                       casement_test_store_result_cb, &result);
  casement_test_await_result (&result, TIMEOUT_S, "a line at the peer");
  line = g_data_input_stream_read_line_finish (fixture->peer_input, result, NULL, &error);
  g_assert_no_error (error);
  return line;
}

static void
write_string (CasementJsonStream *stream,
              const char         *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  casement_json_stream_write (stream, bytes);
}

static void
assert_events (Fixture            *fixture,
               const char * const *expected)
{
  g_assert_cmpuint (fixture->events->len, ==, g_strv_length ((char **) expected));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_cmpstr (fixture->events->pdata[i], ==, expected[i]);
}

/* Lines come whole, in order and byte for byte, however the peer's
 * writes cut them: a '\r' before the '\n' stays (the owner strips it),
 * a blank line is a line, and the guest agent's 0xFF sentinel passes. */
static void
test_lines (Fixture       *fixture,
            gconstpointer  data)
{
  static const char first[] = "{\"a\": 1}\n{\"b\": 2}\r\n\n\xff{\"c\": 3}\n{\"split\"";
  static const char second[] = ": true}\n";
  const char * const expected[] = {
    "line:{\"a\": 1}", "line:{\"b\": 2}\r", "line:", "line:\xff{\"c\": 3}", "line:{\"split\": true}", NULL,
  };
  g_autofree char *line = NULL;

  fixture_connect (fixture);

  peer_write (fixture, first, strlen (first));
  CASEMENT_TEST_WAIT_UNTIL (fixture->events->len == 4, TIMEOUT_S, "the first four lines");
  casement_test_spin (50);
  g_assert_cmpuint (fixture->events->len, ==, 4);
  peer_write (fixture, second, strlen (second));
  CASEMENT_TEST_WAIT_UNTIL (fixture->events->len == 5, TIMEOUT_S, "the split line");
  assert_events (fixture, expected);

  write_string (fixture->stream, "{\"execute\": \"one\"}\n");
  write_string (fixture->stream, "\xff{\"execute\": \"two\"}\n");
  line = peer_read_line (fixture);
  g_assert_cmpstr (line, ==, "{\"execute\": \"one\"}");
  g_clear_pointer (&line, g_free);
  line = peer_read_line (fixture);
  g_assert_cmpstr (line, ==, "\xff{\"execute\": \"two\"}");

  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_OPEN);
}

/* Megabytes queued at once, more than a socket buffer holds: each line
 * arrives whole and in order, never interleaved with another. */
#define N_LARGE 48
#define LARGE_SIZE (64 * 1024)

static void
test_large (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *big = NULL;
  g_autofree char *expected_big = NULL;

  fixture_connect (fixture);

  for (guint i = 0; i < N_LARGE; i++)
    {
      g_autofree char *text = g_strnfill (LARGE_SIZE, 'a' + i % 26);
      g_autoptr(GBytes) bytes = NULL;

      text[0] = '\xff';
      text[LARGE_SIZE - 1] = '\n';
      bytes = g_bytes_new_take (g_steal_pointer (&text), LARGE_SIZE);
      casement_json_stream_write (fixture->stream, bytes);
    }

  for (guint i = 0; i < N_LARGE; i++)
    {
      g_autofree char *line = peer_read_line (fixture);
      g_autofree char *expected = g_strnfill (LARGE_SIZE - 1, 'a' + i % 26);

      expected[0] = '\xff';
      g_assert_cmpstr (line, ==, expected);
    }

  big = g_strnfill (4 * LARGE_SIZE, 'z');
  big[4 * LARGE_SIZE - 1] = '\n';
  peer_write (fixture, big, 4 * LARGE_SIZE);
  CASEMENT_TEST_WAIT_UNTIL (fixture->events->len == 1, TIMEOUT_S, "the large line");
  expected_big = g_strconcat ("line:", big, NULL);
  expected_big[strlen (expected_big) - 1] = '\0';
  g_assert_cmpstr (fixture->events->pdata[0], ==, expected_big);
}

/* Waits for the end of the stream, then checks it came once, after the
 * lines in @expected_lines, as CONNECTION_CLOSED, and left it CLOSED. */
static void
assert_closed_after (Fixture            *fixture,
                     const char * const *expected_lines,
                     const char         *what)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; expected_lines[i] != NULL; i++)
    g_ptr_array_add (expected, g_strdup_printf ("line:%s", expected_lines[i]));
  g_ptr_array_add (expected, g_strdup_printf ("closed:%d", G_IO_ERROR_CONNECTION_CLOSED));
  g_ptr_array_add (expected, NULL);

  CASEMENT_TEST_WAIT_UNTIL (fixture->reason != NULL, TIMEOUT_S, what);
  g_test_message ("%s: %s", what, fixture->reason->message);
  casement_test_spin (100);
  assert_events (fixture, (const char * const *) expected->pdata);
  g_assert_error (fixture->reason, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_CLOSED);
}

/* What the peer sent before it closed is delivered first. */
static void
test_peer_closes (Fixture       *fixture,
                  gconstpointer  data)
{
  const char * const expected[] = { "{\"event\": \"SHUTDOWN\"}", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *quit = NULL;

  fixture_connect (fixture);

  write_string (fixture->stream, "{\"execute\": \"quit\"}\n");
  quit = peer_read_line (fixture);
  g_assert_cmpstr (quit, ==, "{\"execute\": \"quit\"}");
  peer_write (fixture, "{\"event\": \"SHUTDOWN\"}\n", 22);
  g_io_stream_close (G_IO_STREAM (fixture->peer), NULL, &error);
  g_assert_no_error (error);

  assert_closed_after (fixture, expected, "the end of the stream");
}

/* A peer that exits with our bytes unread resets the connection, as QEMU
 * does right after "quit": that is the peer closing too. */
static void
test_peer_resets (Fixture       *fixture,
                  gconstpointer  data)
{
  const char * const expected[] = { NULL };
  g_autoptr(GError) error = NULL;

  fixture_connect (fixture);

  write_string (fixture->stream, "{\"execute\": \"quit\"}\n");
  casement_test_spin (100);
  g_io_stream_close (G_IO_STREAM (fixture->peer), NULL, &error);
  g_assert_no_error (error);

  assert_closed_after (fixture, expected, "the reset");
}

/* A peer that reads no more makes our next write a broken pipe while
 * our read still waits: the stream ends there, as closed, and the read
 * it cancels ends nothing a second time. */
static void
test_broken_pipe (Fixture       *fixture,
                  gconstpointer  data)
{
  const char * const expected[] = { NULL };
  g_autoptr(GError) error = NULL;

  fixture_connect (fixture);

  g_socket_shutdown (g_socket_connection_get_socket (fixture->peer), TRUE, FALSE, &error);
  g_assert_no_error (error);
  write_string (fixture->stream, "{\"execute\": \"query-status\"}\n");

  assert_closed_after (fixture, expected, "the broken pipe");
}

/* Closing stops everything at once: no "closed" (its caller knows), no
 * line read after it, queued lines dropped, the peer sees the end. */
static void
test_close (Fixture       *fixture,
            gconstpointer  data)
{
  static const char late[] = "{\"return\": {}}\n";
  g_autofree char *line = NULL;

  fixture_connect (fixture);

  casement_json_stream_close (fixture->stream);
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_CLOSED);
  casement_json_stream_close (fixture->stream);

  line = peer_read_line (fixture);
  g_assert_null (line);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (fixture->peer)),
                             late, strlen (late), NULL, NULL, NULL);
  casement_test_spin (100);
  g_assert_cmpuint (fixture->events->len, ==, 0);
}

/* Returns why connecting @path failed. */
static GError *
connect_error (Fixture    *fixture,
               const char *path)
{
  g_autoptr(CasementJsonStream) stream = watched_stream_new (fixture);

  casement_json_stream_connect (stream, path);
  CASEMENT_TEST_WAIT_UNTIL (fixture->reason != NULL, TIMEOUT_S, "the connect to fail");
  g_assert_cmpint (casement_json_stream_get_state (stream), ==, CASEMENT_JSON_STREAM_STATE_CLOSED);
  g_assert_cmpuint (fixture->events->len, ==, 1);
  g_ptr_array_set_size (fixture->events, 0);
  g_assert_finalize_object (g_steal_pointer (&stream));
  return g_steal_pointer (&fixture->reason);
}

/* A failed connect ends the stream with a reason naming the socket. Lines
 * written meanwhile wait for the connection, and are dropped with it. */
static void
test_connect_errors (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.sock", NULL);
  g_autofree char *too_long = g_strnfill (200, 'x');
  g_autoptr(GError) error = NULL;

  error = connect_error (fixture, missing);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_test_message ("missing: %s", error->message);
  g_clear_error (&error);

  error = connect_error (fixture, too_long);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG);
  g_clear_error (&error);

  /* Closed while connecting: the connection made meanwhile is dropped. */
  write_string (fixture->stream, "{\"execute\": \"dropped\"}\n");
  casement_json_stream_connect (fixture->stream, fixture->path);
  casement_json_stream_close (fixture->stream);
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_CLOSED);
  casement_test_spin (100);
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_CLOSED);
  g_assert_cmpuint (fixture->events->len, ==, 0);
}

/* Lines written before the connection is made go out once it is, first
 * and in order. */
static void
test_write_early (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *line = NULL;

  write_string (fixture->stream, "\xff{\"execute\": \"guest-sync-delimited\"}\n");
  fixture_connect (fixture);
  write_string (fixture->stream, "{\"execute\": \"guest-ping\"}\n");

  line = peer_read_line (fixture);
  g_assert_cmpstr (line, ==, "\xff{\"execute\": \"guest-sync-delimited\"}");
  g_clear_pointer (&line, g_free);
  line = peer_read_line (fixture);
  g_assert_cmpstr (line, ==, "{\"execute\": \"guest-ping\"}");
}

/* A stream already connected (a socketpair) works the same, and closing
 * the JSON stream closes it. */
static void
test_open (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GSocket) ours = NULL;
  g_autoptr(GSocket) theirs = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  ours = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  theirs = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (ours);
  fixture->peer = g_socket_connection_factory_create_connection (theirs);
  fixture->peer_input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (fixture->peer)));

  casement_json_stream_open (fixture->stream, G_IO_STREAM (connection));
  g_assert_cmpint (casement_json_stream_get_state (fixture->stream), ==, CASEMENT_JSON_STREAM_STATE_OPEN);

  peer_write (fixture, "{\"QMP\": {}}\n", 12);
  CASEMENT_TEST_WAIT_UNTIL (fixture->events->len == 1, TIMEOUT_S, "the line");
  g_assert_cmpstr (fixture->events->pdata[0], ==, "line:{\"QMP\": {}}");
  write_string (fixture->stream, "{\"execute\": \"qmp_capabilities\"}\n");
  line = peer_read_line (fixture);
  g_assert_cmpstr (line, ==, "{\"execute\": \"qmp_capabilities\"}");
  g_clear_pointer (&line, g_free);

  casement_json_stream_close (fixture->stream);
  line = peer_read_line (fixture);
  g_assert_null (line);
  casement_test_spin (50);
  g_assert_true (g_io_stream_is_closed (G_IO_STREAM (connection)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/Casement/JsonStream/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("lines", test_lines);
  ADD ("large", test_large);
  ADD ("peer-closes", test_peer_closes);
  ADD ("peer-resets", test_peer_resets);
  ADD ("broken-pipe", test_broken_pipe);
  ADD ("close", test_close);
  ADD ("connect-errors", test_connect_errors);
  ADD ("write-early", test_write_early);
  ADD ("open", test_open);

#undef ADD

  return g_test_run ();
}
