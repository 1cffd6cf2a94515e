/* casement-test-util.h
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

/* Helpers the test programs share: waiting on the main context with a
 * deadline, processes found by their command line, and the guard that
 * kills a test's VMs when the test aborts (VMs outlive the process that
 * started them by design). For test programs only. */

/* ---- Waiting ------------------------------------------------------------ */

/* Runs the thread-default main context for @ms milliseconds. */
void           casement_test_spin                 (guint           ms);

/* A GAsyncReadyCallback that stores a reference to the result in the
 * GAsyncResult * that @user_data points to, which must be NULL. */
void           casement_test_store_result_cb      (GObject        *object,
                                                   GAsyncResult   *result,
                                                   gpointer        user_data);

/* Runs the main context until *@result is set (by
 * casement_test_store_result_cb()); aborts the test after @timeout_s,
 * naming @what. Returns *@result. */
GAsyncResult  *casement_test_await_result         (GAsyncResult  **result,
                                                   guint           timeout_s,
                                                   const char     *what);

/* Checks a call that returns FALSE with a GError set in the caller's
 * `error`: the error's message shows when it fails. */
#define CASEMENT_TEST_ASSERT_OK(call)                                            \
  G_STMT_START {                                                                 \
    gboolean ok_ = (call);                                                       \
    g_assert_no_error (error);                                                   \
    g_assert_true (ok_);                                                         \
  } G_STMT_END

/* For CASEMENT_TEST_WAIT_UNTIL(): a source that only wakes the context. */
gboolean       casement_test_wake_cb              (gpointer        user_data);

/* Runs the main context until @cond holds, aborting the test after
 * @timeout_s. @cond is checked at least every 20 ms, so it may watch
 * things no source announces (files, processes). */
#define CASEMENT_TEST_WAIT_UNTIL(cond, timeout_s, what)                                 \
  G_STMT_START {                                                                        \
    gint64 end_ = g_get_monotonic_time () + (gint64) (timeout_s) * G_USEC_PER_SEC;      \
    guint wake_ = g_timeout_add (20, casement_test_wake_cb, NULL);                      \
                                                                                        \
    while (!(cond))                                                                     \
      {                                                                                 \
        if (g_get_monotonic_time () > end_)                                             \
          g_error ("Timed out after %u s waiting for %s", (guint) (timeout_s), (what)); \
        g_main_context_iteration (NULL, TRUE);                                          \
      }                                                                                 \
    g_source_remove (wake_);                                                            \
  } G_STMT_END

/* ---- Processes ---------------------------------------------------------- */

/* Alive: neither gone nor a zombie (a zombie leader whose other threads
 * still run counts as alive). */
gboolean       casement_test_pid_alive            (GPid            pid);

/* Waits until @pid is gone; fails the test after @timeout_s. */
void           casement_test_wait_pid_gone        (GPid            pid,
                                                   guint           timeout_s);

/* The live processes (other than this one) whose command line names
 * @needle, e.g. a VM's folder: its QEMU, swtpm, virtiofsd. */
GArray        *casement_test_find_processes       (const char     *needle);

/* Waits up to @timeout_s for no process to name @needle (our own
 * children are reaped a moment after they end); fails the test
 * otherwise, listing them. */
void           casement_test_assert_no_processes  (const char     *needle,
                                                   guint           timeout_s);

/* From here on, a test that aborts (failed assertion, g_error(), fatal
 * warning, SIGTERM from meson's timeout, a crash) first kills every
 * process whose command line names @needle: the folder all the test's
 * VMs live in, normally casement_test_guest_env_get_dir(). Call it in
 * main(), in test subprocesses too; a later call replaces @needle. It
 * takes the test's fatal log handler and sets the process's log writer
 * (g_log_set_writer_func()). A failed assertion in a test subprocess
 * ends it with neither a signal nor a log message: for that one, the
 * parent's g_test_trap_assert_passed() does the killing. */
void           casement_test_kill_on_abort        (const char     *needle);

/* Kills now what casement_test_kill_on_abort() would kill on abort. */
void           casement_test_kill_strays          (void);

/* ---- Files ------------------------------------------------------------- */

/* Removes @path and, for a folder, everything in it, without following
 * symbolic links; what cannot be removed stays, silently. */
void           casement_test_remove_tree          (const char     *path);

/* ---- The display -------------------------------------------------------- */

/* A display for GTK: the one in DISPLAY (xvfb-run's), else our own Xvfb
 * with a screen of @screen (e.g. "1600x1200x24") stored in *@xvfb and
 * named in DISPLAY; it dies with this process. FALSE when there is no
 * display and no Xvfb. Call it before threads exist (it sets DISPLAY). */
gboolean       casement_test_ensure_display       (const char     *screen,
                                                   GSubprocess   **xvfb);

/* Ends an Xvfb started by casement_test_ensure_display(), if any. */
void           casement_test_stop_display         (GSubprocess   **xvfb);

G_END_DECLS
