/* test-install.c
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

/* The express install's last two steps: the answer to Windows' "Press any
 * key to boot from CD or DVD", and the end of the install seen through the
 * guest agent (the answer medium ejected, deleted, vm.json updated). The
 * lifecycle cases boot the test guest under TCG, with Debian's qemu-ga in
 * its initramfs (tg.qga=1). */

#include "config.h"


#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "casement-guest-agent.h"
#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-util.h"
#include "casement-test-vm.h"
#include "casement-unattend.h"
#include "casement-vm.h"

#define BOOT_TIMEOUT_S 90
#define STEP_TIMEOUT_S 60

static CasementHost *host;

/* ------------------------------------------------------------------ */
/* The boot-key policy                                                 */
/* ------------------------------------------------------------------ */

static void
test_install_boot_key_policy (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("Windows");
  guint kvm;
  guint tcg;

  casement_vm_config_set_os_id (config, "win11");
  casement_vm_config_set_install_iso (config, "/isos/Win11.iso");

  /* A Windows VM still to be installed from its ISO: yes, and longer
   * under TCG, where the firmware takes longer to reach the CD. */
  kvm = casement_vm_boot_key_seconds (config, TRUE);
  tcg = casement_vm_boot_key_seconds (config, FALSE);
  g_assert_cmpuint (kvm, >=, 10);
  g_assert_cmpuint (tcg, >, kvm);

  /* Installed: the disk boots first, and the prompt must go unanswered. */
  casement_vm_config_set_installed (config, TRUE);
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, TRUE), ==, 0);
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, FALSE), ==, 0);
  casement_vm_config_set_installed (config, FALSE);

  /* No install ISO: nothing asks. */
  casement_vm_config_set_install_iso (config, NULL);
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, FALSE), ==, 0);
  casement_vm_config_set_install_iso (config, "/isos/Win11.iso");

  /* A kernel of its own boots before any CD. */
  casement_vm_config_set_kernel (config, "/boot/vmlinuz");
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, FALSE), ==, 0);
  casement_vm_config_set_kernel (config, NULL);

  /* Not Windows: no such prompt. */
  casement_vm_config_set_os_id (config, "linux");
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, FALSE), ==, 0);
  casement_vm_config_set_os_id (config, "win10");
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, FALSE), ==, tcg);
}

/* ------------------------------------------------------------------ */
/* CasementGuestAgent against a scripted peer on a real unix socket     */
/* ------------------------------------------------------------------ */

/* Plays the agent: answers the n-th line it receives with replies[n]
 * (NULL: no answer; "%ID%" becomes the id the line carries), then hangs
 * up or, with @hold, keeps the connection until the client closes it. */
typedef struct
{
  GSocket             *listener;
  const char * const  *replies;
  gboolean             hold;
  GPtrArray           *received;
  gint                 done;
} Peer;

static char *
peer_reply (const char *reply,
            const char *line)
{
  g_autoptr(GRegex) regex = g_regex_new ("\"id\": *([0-9]+)", G_REGEX_RAW, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *id = NULL;
  g_auto(GStrv) parts = NULL;

  if (!g_regex_match (regex, line, 0, &match))
    return g_strdup (reply);

  id = g_match_info_fetch (match, 1);
  parts = g_strsplit (reply, "%ID%", -1);
  return g_strjoinv (id, parts);
}

static gpointer
peer_thread (gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) input = NULL;
  GOutputStream *output;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  socket = g_socket_accept (peer->listener, NULL, &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (socket);
  input = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  output = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (input, NULL, NULL, NULL);

      if (line == NULL)
        break;
      g_ptr_array_add (peer->received, g_strdup (line));

      if (peer->replies[n] == NULL)
        {
          if (!peer->hold)
            break;
          continue;
        }

      {
        g_autofree char *reply = peer_reply (peer->replies[n], line);

        n++;
        g_output_stream_write_all (output, reply, strlen (reply), NULL, NULL, NULL);
      }
    }

  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_atomic_int_set (&peer->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* The client's closing completes in the main context: keep it running
 * until the peer has seen the end. */
static void
peer_join (Peer    *peer,
           GThread *thread)
{
  CASEMENT_TEST_WAIT_UNTIL (g_atomic_int_get (&peer->done), STEP_TIMEOUT_S,
                            "the peer to see the connection end");
  g_thread_join (thread);
}

static char *
peer_listen (Peer *peer)
{
  g_autofree char *dir = g_dir_make_tmp ("casement-qga-XXXXXX", NULL);
  char *path = g_build_filename (dir, "qga.sock", NULL);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GError) error = NULL;

  peer->received = g_ptr_array_new_with_free_func (g_free);
  peer->listener = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (peer->listener, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (peer->listener, &error);
  g_assert_no_error (error);

  return path;
}

static void
peer_clear (Peer       *peer,
            const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_clear_object (&peer->listener);
  g_clear_pointer (&peer->received, g_ptr_array_unref);
  g_unlink (path);
  g_rmdir (dir);
}

/* The error's message shows when the call fails. */
#define assert_ok(call)                                                          \
  G_STMT_START {                                                                 \
    gboolean ok_ = (call);                                                       \
    g_assert_no_error (error);                                                   \
    g_assert_true (ok_);                                                         \
  } G_STMT_END

/* I/O cancelled at close returns in a later main loop iteration, and
 * holds the agent until then. */
static void
assert_finalize_agent (CasementGuestAgent *agent)
{
  casement_test_spin (100);
  g_assert_finalize_object (agent);
}

static gboolean
agent_connect (CasementGuestAgent  *agent,
               const char          *path,
               GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_guest_agent_connect_async (agent, path, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "guest agent connect");
  return casement_guest_agent_connect_finish (agent, result, error);
}

static JsonNode *
agent_execute (CasementGuestAgent  *agent,
               const char          *command,
               GCancellable        *cancellable,
               GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_guest_agent_execute_async (agent, command, NULL, cancellable, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, command);
  return casement_guest_agent_execute_finish (agent, result, error);
}

static void
test_install_agent_protocol (void)
{
  /* An earlier client's leftovers come first, the agent's complaint about
   * our sentinel, a sync reply with another id, then ours. */
  static const char * const replies[] = {
    "{\"return\": {\"stale\": true}}\n{\"error\": {\"class\": \"GenericError\", "
    "\"desc\": \"JSON parse error\"}}\n\xff{\"return\": 7}\n\xff{\"return\": %ID%}\n",
    "{\"return\": {}}\r\n",
    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"failed to open file\"}}\n",
    NULL,
  };
  Peer peer = { .replies = replies, .hold = TRUE };
  g_autofree char *path = peer_listen (&peer);
  g_autoptr(GThread) thread = g_thread_new ("peer", peer_thread, &peer);
  g_autoptr(CasementGuestAgent) agent = casement_guest_agent_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  gint64 begin;

  g_assert_cmpint (casement_guest_agent_get_state (agent), ==, CASEMENT_GUEST_AGENT_STATE_DISCONNECTED);
  assert_ok (agent_connect (agent, path, &error));
  g_assert_cmpint (casement_guest_agent_get_state (agent), ==, CASEMENT_GUEST_AGENT_STATE_READY);

  reply = agent_execute (agent, "guest-ping", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply));
  g_clear_pointer (&reply, json_node_unref);

  /* The agent's refusal keeps the connection. */
  reply = agent_execute (agent, "guest-file-open", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_COMMAND_FAILED);
  g_assert_cmpstr (casement_qmp_error_get_qmp_class (error), ==, "GenericError");
  g_assert_cmpstr (error->message, ==, "failed to open file");
  g_clear_error (&error);
  g_assert_cmpint (casement_guest_agent_get_state (agent), ==, CASEMENT_GUEST_AGENT_STATE_READY);

  /* No answer: a timeout, and the connection is gone. */
  casement_guest_agent_set_timeout (agent, 300);
  begin = g_get_monotonic_time ();
  reply = agent_execute (agent, "guest-info", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 300 * 1000);
  g_test_message ("timeout: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (casement_guest_agent_get_state (agent), ==, CASEMENT_GUEST_AGENT_STATE_CLOSED);

  peer_join (&peer, g_steal_pointer (&thread));

  /* What the peer got: the sentinel before the sync, then plain lines. */
  g_assert_cmpuint (peer.received->len, ==, 4);
  g_assert_true (((const char *) peer.received->pdata[0])[0] == '\xff');
  g_assert_nonnull (strstr (peer.received->pdata[0], "\"execute\":\"guest-sync-delimited\""));
  g_assert_nonnull (strstr (peer.received->pdata[1], "\"execute\":\"guest-ping\""));
  g_assert_nonnull (strstr (peer.received->pdata[2], "\"execute\":\"guest-file-open\""));
  g_assert_nonnull (strstr (peer.received->pdata[3], "\"execute\":\"guest-info\""));

  assert_finalize_agent (g_steal_pointer (&agent));
  peer_clear (&peer, path);
}

static void
test_install_agent_absent (void)
{
  static const char * const silent[] = { NULL };
  static const char * const hang_up[] = { "\xff{\"return\": %ID%}\n", NULL };
  Peer peer = { .replies = silent, .hold = TRUE };
  g_autofree char *path = peer_listen (&peer);
  g_autoptr(GThread) thread = g_thread_new ("peer", peer_thread, &peer);
  g_autoptr(CasementGuestAgent) agent = casement_guest_agent_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* QEMU accepts the connection whether or not an agent runs. */
  casement_guest_agent_set_timeout (agent, 500);
  g_assert_false (agent_connect (agent, path, &error));
  g_assert_error (error, CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_TIMEOUT);
  g_test_message ("no agent: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (casement_guest_agent_get_state (agent), ==, CASEMENT_GUEST_AGENT_STATE_CLOSED);
  reply = agent_execute (agent, "guest-ping", NULL, &error);
  g_assert_error (error, CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_DISCONNECTED);
  g_clear_error (&error);
  assert_finalize_agent (g_steal_pointer (&agent));
  peer_join (&peer, g_steal_pointer (&thread));
  peer_clear (&peer, path);

  /* No socket at all (QEMU gone). */
  agent = casement_guest_agent_new ();
  g_assert_false (agent_connect (agent, path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&agent);

  /* The peer hangs up after the sync: DISCONNECTED. */
  peer = (Peer) { .replies = hang_up };
  g_free (path);
  path = peer_listen (&peer);
  thread = g_thread_new ("peer", peer_thread, &peer);
  agent = casement_guest_agent_new ();
  assert_ok (agent_connect (agent, path, &error));
  reply = agent_execute (agent, "guest-ping", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_DISCONNECTED);
  g_clear_error (&error);
  peer_join (&peer, g_steal_pointer (&thread));
  assert_finalize_agent (g_steal_pointer (&agent));
  peer_clear (&peer, path);

  /* Cancelling a command in flight closes the connection: a late reply
   * could not be told from the next one's. */
  peer = (Peer) { .replies = hang_up, .hold = TRUE };
  g_free (path);
  path = peer_listen (&peer);
  thread = g_thread_new ("peer", peer_thread, &peer);
  agent = casement_guest_agent_new ();
  assert_ok (agent_connect (agent, path, &error));
  {
    g_autoptr(GAsyncResult) result = NULL;

    casement_guest_agent_execute_async (agent, "guest-ping", NULL, cancellable,
                                        casement_test_store_result_cb, &result);
    casement_test_spin (200);
    g_assert_null (result);
    g_cancellable_cancel (cancellable);
    casement_test_await_result (&result, STEP_TIMEOUT_S, "cancelled guest-ping");
    reply = casement_guest_agent_execute_finish (agent, result, &error);
    g_assert_null (reply);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }
  g_assert_cmpint (casement_guest_agent_get_state (agent), ==, CASEMENT_GUEST_AGENT_STATE_CLOSED);
  peer_join (&peer, g_steal_pointer (&thread));
  assert_finalize_agent (g_steal_pointer (&agent));
  peer_clear (&peer, path);
}

/* ------------------------------------------------------------------ */
/* VMs of the test guest                                               */
/* ------------------------------------------------------------------ */

static char *
create_vm (CasementVmStore *store,
           const char      *name,
           const char      *cmdline_extra)
{
  g_autoptr(CasementVmConfig) config = casement_test_guest_config_new (name, "idle", cmdline_extra);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *slug;

  casement_vm_store_create_async (store, config, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "VM creation");
  slug = casement_vm_store_create_finish (store, result, &error);
  g_assert_no_error (error);

  return slug;
}

/* Lines of the serial log matching @regex, counted after the @after-th
 * line that contains "TG: init" (0: from the start). */
static guint
count_serial (CasementVm *vm,
              const char *regex,
              guint       after)
{
  g_autofree char *serial = casement_test_vm_file (vm, CASEMENT_VM_SERIAL_LOG);
  g_autofree char *contents = NULL;
  g_autoptr(GRegex) re = g_regex_new (regex, 0, 0, NULL);
  g_auto(GStrv) lines = NULL;
  guint boots = 0;
  guint count = 0;

  if (!g_file_get_contents (serial, &contents, NULL, NULL))
    return 0;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strchomp (lines[i]);
      if (strstr (lines[i], "TG: init") != NULL)
        boots++;
      if (boots >= after && g_regex_match (re, lines[i], 0, NULL))
        count++;
    }

  return count;
}

/* Whether the drive of qdev @id holds a medium, from QEMU's query-block. */
static gboolean
drive_has_medium (CasementVm *vm,
                  const char *id)
{
  g_autoptr(JsonNode) reply = casement_test_vm_qmp (vm, "query-block", STEP_TIMEOUT_S);
  JsonArray *drives = json_node_get_array (reply);

  for (guint i = 0; i < json_array_get_length (drives); i++)
    {
      JsonObject *drive = json_array_get_object_element (drives, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (drive, "qdev", NULL), id) == 0)
        return json_object_has_member (drive, "inserted");
    }

  g_error ("query-block lists no drive %s", id);
}

/* Forces the VM off; then no process names its folder, and its runtime
 * folder is gone. */
static void
vm_end (CasementVm *vm)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
  g_autofree char *run_dir = casement_vm_dup_runtime_dir (vm, &error);
  gint64 deadline;
  GPid pid = casement_vm_get_pid (vm);
  gboolean alive = TRUE;

  g_assert_no_error (error);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *cmdline_path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
      g_autofree char *cmdline = NULL;
      gsize len = 0;

      alive = g_file_get_contents (cmdline_path, &cmdline, &len, NULL) && len > 0 &&
              memmem (cmdline, len, vm_dir, strlen (vm_dir)) != NULL;
      if (!alive && !g_file_test (run_dir, G_FILE_TEST_EXISTS))
        break;
      casement_test_spin (100);
    }
  g_assert_false (alive);
  g_assert_false (g_file_test (run_dir, G_FILE_TEST_EXISTS));
}

static void
on_install_finished (CasementVm *vm,
                     guint      *count)
{
  (*count)++;
}

static GFile *
write_answer_medium (const char *vm_dir)
{
  g_autoptr(GFile) dir = g_file_new_for_path (vm_dir);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GFile *medium;

  casement_unattend_write_medium_async ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                                        "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\"/>\n",
                                        NULL, dir, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "answer medium");
  medium = casement_unattend_write_medium_finish (result, &error);
  g_assert_no_error (error);

  return medium;
}

/* ------------------------------------------------------------------ */
/* The end of the install                                              */
/* ------------------------------------------------------------------ */

static void
test_install_finish (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(CasementVmConfig) saved = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GFile) medium = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *medium_path = NULL;
  guint finished = 0;
  gint64 begin;

  /* The marker comes 8 s after qemu-ga started: several checks find the
   * agent answering and the marker missing first. */
  slug = create_vm (store, "Express", "tg.qga=1 tg.install_marker_after=8");
  vm_dir = casement_vm_store_dup_vm_dir (store, slug);
  medium = write_answer_medium (vm_dir);
  medium_path = g_file_get_path (medium);
  g_assert_true (g_file_test (medium_path, G_FILE_TEST_IS_REGULAR));

  config = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  casement_vm_config_set_unattend_media (config, CASEMENT_UNATTEND_MEDIUM_NAME);
  casement_vm_config_set_installed (config, FALSE);
  g_assert_true (casement_vm_store_save (store, slug, config, &error));
  g_assert_no_error (error);

  vm = casement_vm_new (store, slug);
  g_assert_cmpuint (casement_vm_get_install_poll_interval (vm), ==,
                    CASEMENT_VM_DEFAULT_INSTALL_POLL_INTERVAL);
  casement_vm_set_install_poll_interval (vm, 1);
  g_signal_connect (vm, "install-finished", G_CALLBACK (on_install_finished), &finished);

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: cd sr1 label=", BOOT_TIMEOUT_S, NULL);
  casement_test_vm_wait_serial (vm, "TG: qga started", BOOT_TIMEOUT_S, NULL);

  /* Before the marker: checks run, nothing changes. */
  casement_test_spin (4000);
  g_assert_cmpuint (count_serial (vm, "TG: marker written", 0), ==, 0);
  g_assert_cmpuint (finished, ==, 0);
  g_assert_true (drive_has_medium (vm, "cd-unattend"));
  g_assert_true (g_file_test (medium_path, G_FILE_TEST_IS_REGULAR));
  saved = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  g_assert_false (casement_vm_config_get_installed (saved));
  g_assert_cmpstr (casement_vm_config_get_unattend_media (saved), ==, CASEMENT_UNATTEND_MEDIUM_NAME);
  g_clear_object (&saved);

  casement_test_vm_wait_serial (vm, "TG: marker written", STEP_TIMEOUT_S, NULL);
  begin = g_get_monotonic_time ();
  CASEMENT_TEST_WAIT_UNTIL (finished != 0, STEP_TIMEOUT_S, "the install to finish");
  g_test_message ("marker written → install finished: %.1f s (poll interval 1 s)",
                  (g_get_monotonic_time () - begin) / (double) G_USEC_PER_SEC);
  /* A few ticks at most (the serial log is read every so often too). */
  g_assert_cmpint (g_get_monotonic_time () - begin, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (finished, ==, 1);

  /* QEMU's drive is empty, and the guest saw the medium go. */
  g_assert_false (drive_has_medium (vm, "cd-unattend"));
  casement_test_vm_wait_serial (vm, "TG: cd sr1 size=0", STEP_TIMEOUT_S, NULL);

  /* vm.json says installed, with no answer medium, and the medium with
   * the password is gone; the VM's config says the same. */
  saved = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  g_assert_true (casement_vm_config_get_installed (saved));
  g_assert_null (casement_vm_config_get_unattend_media (saved));
  g_assert_false (g_file_test (medium_path, G_FILE_TEST_EXISTS));
  g_assert_true (casement_vm_config_get_installed (casement_vm_get_config (vm)));
  g_assert_null (casement_vm_config_get_unattend_media (casement_vm_get_config (vm)));

  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  casement_test_spin (2000);
  g_assert_cmpuint (finished, ==, 1);

  vm_end (vm);
}

/* An installed VM, or one without an answer medium, is not watched; a
 * VM whose guest never runs an agent goes on quietly. */
static void
test_install_no_agent (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(CasementVmConfig) saved = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GFile) medium = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *medium_path = NULL;
  guint finished = 0;

  slug = create_vm (store, "No agent", NULL);
  vm_dir = casement_vm_store_dup_vm_dir (store, slug);
  medium = write_answer_medium (vm_dir);
  medium_path = g_file_get_path (medium);

  config = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  casement_vm_config_set_unattend_media (config, CASEMENT_UNATTEND_MEDIUM_NAME);
  g_assert_true (casement_vm_store_save (store, slug, config, &error));

  vm = casement_vm_new (store, slug);
  casement_vm_set_install_poll_interval (vm, 1);
  g_signal_connect (vm, "install-finished", G_CALLBACK (on_install_finished), &finished);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);

  /* Each check waits the agent's timeout (5 s) for a sync reply. */
  casement_test_spin (12000);
  g_assert_cmpuint (finished, ==, 0);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_null (casement_vm_get_last_error (vm));
  g_assert_true (drive_has_medium (vm, "cd-unattend"));
  g_assert_true (g_file_test (medium_path, G_FILE_TEST_IS_REGULAR));
  saved = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  g_assert_false (casement_vm_config_get_installed (saved));

  vm_end (vm);
}

/* ------------------------------------------------------------------ */
/* The boot-key answer                                                 */
/* ------------------------------------------------------------------ */

/* The guest's tty1 reader reports each typed line; Enter alone gives
 * an empty one. */
#define ENTER_LINE "^GOT:$"

static void
test_install_boot_keys (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  gint64 started;
  guint seen;
  guint later;

  slug = create_vm (store, "Boot keys", NULL);
  vm = casement_vm_new (store, slug);

  /* The policy says no for the test guest (Linux, its own kernel): no key
   * at all. */
  config = casement_vm_store_load (store, slug, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (casement_vm_boot_key_seconds (config, FALSE), ==, 0);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);
  casement_test_spin (6000);
  g_assert_cmpuint (count_serial (vm, ENTER_LINE, 0), ==, 0);
  vm_end (vm);

  /* A window of 60 s (the guest's keyboard reader is up after 10-30 s
   * under TCG): Enter arrives once a second, and stops after. */
  casement_vm_set_boot_key_window (vm, 60);
  started = g_get_monotonic_time ();
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, ENTER_LINE, BOOT_TIMEOUT_S, NULL);
  g_test_message ("first Enter seen by the guest %.1f s after the start",
                  (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);
  while (g_get_monotonic_time () < started + 62 * G_USEC_PER_SEC)
    casement_test_spin (250);
  seen = count_serial (vm, ENTER_LINE, 0);
  g_test_message ("Enter lines within the 60 s window: %u", seen);
  g_assert_cmpuint (seen, >=, 3);
  casement_test_spin (4000);
  g_assert_cmpuint (count_serial (vm, ENTER_LINE, 0), ==, seen);
  vm_end (vm);

  /* A reset (Setup's reboot) ends the answering: the second boot gets no
   * key, however long the window. */
  casement_vm_set_boot_key_window (vm, 600);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, ENTER_LINE, BOOT_TIMEOUT_S, NULL);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_reset (vm, STEP_TIMEOUT_S, &error));
  {
    gint64 deadline = g_get_monotonic_time () + BOOT_TIMEOUT_S * G_USEC_PER_SEC;

    while (count_serial (vm, "TG: ready", 0) < 2 && g_get_monotonic_time () < deadline)
      casement_test_spin (200);
    g_assert_cmpuint (count_serial (vm, "TG: ready", 0), ==, 2);
  }
  casement_test_spin (5000);
  later = count_serial (vm, ENTER_LINE, 2);
  g_assert_cmpuint (later, ==, 0);
  vm_end (vm);

  /* So does a pause. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, ENTER_LINE, BOOT_TIMEOUT_S, NULL);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_pause (vm, STEP_TIMEOUT_S, &error));
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_resume (vm, STEP_TIMEOUT_S, &error));
  seen = count_serial (vm, ENTER_LINE, 0);
  casement_test_spin (5000);
  /* One press may have been on its way while pausing. */
  g_assert_cmpuint (count_serial (vm, ENTER_LINE, 0), <=, seen + 1);
  vm_end (vm);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CasementTestGuestEnv) env = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!casement_test_guest_ensure (NULL, NULL, &error))
    g_error ("%s", error->message);
  if (!(env = casement_test_guest_env_new (&error)))
    g_error ("%s", error->message);
  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);

  casement_test_kill_on_abort (casement_test_guest_env_get_dir (env));

  g_test_add_func ("/Casement/Install/boot-key-policy", test_install_boot_key_policy);
  g_test_add_func ("/Casement/Install/agent-protocol", test_install_agent_protocol);
  g_test_add_func ("/Casement/Install/agent-absent", test_install_agent_absent);
  g_test_add_func ("/Casement/Install/finish", test_install_finish);
  g_test_add_func ("/Casement/Install/no-agent", test_install_no_agent);
  g_test_add_func ("/Casement/Install/boot-keys", test_install_boot_keys);

  status = g_test_run ();

  g_clear_object (&host);

  return status;
}
