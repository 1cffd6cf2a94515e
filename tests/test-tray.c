/* test-tray.c
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

/* The tray as a panel sees it, on a private session bus (GTestDBus): a
 * StatusNotifierWatcher (tests/tray-watcher.c, run as a subprocess), the
 * item and its dbusmenu read and clicked over D-Bus, real VMs of the tiny
 * test guest started and stopped from the menu and checked over QMP, and
 * a stand-in org.freedesktop.Notifications server that records what the
 * app says and clicks its buttons. The last two tests run the real
 * CasementApplication, each in a subprocess, under an X server (our own
 * Xvfb when there is no display). */

#include "config.h"

#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gtk/gtk.h>

#include "casement-application.h"
#include "casement-library.h"
#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-util.h"
#include "casement-test-vm.h"
#include "casement-tray.h"
#include "casement-vm-row.h"

/* Guest boot under TCG takes seconds; a loaded 2-core host may need more. */
#define BOOT_TIMEOUT_S 120
#define STEP_TIMEOUT_S 60

#define TEST_APP_ID          "io.github.casement.TrayTest"
#define ITEM_PATH            "/StatusNotifierItem"
#define ITEM_INTERFACE       "org.kde.StatusNotifierItem"
#define MENU_PATH            "/MenuBar"
#define MENU_INTERFACE       "com.canonical.dbusmenu"
#define WATCHER_NAME         "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH         "/StatusNotifierWatcher"
#define WATCHER_INTERFACE    "org.kde.StatusNotifierWatcher"
#define NOTIFICATIONS_NAME   "org.freedesktop.Notifications"
#define NOTIFICATIONS_PATH   "/org/freedesktop/Notifications"

static CasementTestGuestEnv *env;
static GTestDBus            *test_bus;
static GDBusConnection      *client;      /* plays the panel: reads the item, clicks the menu */
static GApplication         *test_app;    /* stands in for CasementApplication */
static GSubprocess          *xvfb;

/* The private bus: ours, or, in a subprocess test, the parent's. */
static const char *
bus_address (void)
{
  return test_bus != NULL ? g_test_dbus_get_bus_address (test_bus) : g_getenv ("DBUS_SESSION_BUS_ADDRESS");
}

/* What the stand-in application's actions saw. */
static struct
{
  guint  activated;
  guint  new_vm;
  guint  quit;
  char  *opened;
} app_record;

/* ------------------------------------------------------------------ */
/* D-Bus as the panel does it                                          */
/* ------------------------------------------------------------------ */

/* A call that keeps the main context running, since the tray answers
 * from this very thread. */
static GVariant *
bus_call (const char  *name,
          const char  *path,
          const char  *interface,
          const char  *method,
          GVariant    *parameters,
          const char  *reply_type,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_dbus_connection_call (client, name, path, interface, method, parameters,
                          reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, 20000, NULL,
                          casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, method);

  return g_dbus_connection_call_finish (client, result, error);
}

static GVariant *
bus_call_ok (const char *name,
             const char *path,
             const char *interface,
             const char *method,
             GVariant   *parameters,
             const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = bus_call (name, path, interface, method, parameters, reply_type, &error);
  g_assert_no_error (error);

  return reply;
}

static GVariant *
bus_get_property (const char *name,
                  const char *path,
                  const char *interface,
                  const char *property)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *value;

  reply = bus_call_ok (name, path, "org.freedesktop.DBus.Properties", "Get",
                       g_variant_new ("(ss)", interface, property), "(v)");
  g_variant_get (reply, "(v)", &value);

  return value;
}

static gboolean
name_has_owner (const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner;

  reply = bus_call_ok ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                       "NameHasOwner", g_variant_new ("(s)", name), "(b)");
  g_variant_get (reply, "(b)", &has_owner);

  return has_owner;
}

static void
wait_name (const char *name,
           gboolean    owned)
{
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT_S * G_USEC_PER_SEC;

  while (name_has_owner (name) != owned)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for %s to be %s", name, owned ? "owned" : "released");
      casement_test_spin (50);
    }
}

/* Signals of the item and the menu, as the panel receives them. */
typedef struct
{
  char     *member;
  GVariant *parameters;
} Signal;

static GPtrArray *signals_seen;

static void
signal_free (Signal *signal)
{
  g_free (signal->member);
  g_clear_pointer (&signal->parameters, g_variant_unref);
  g_free (signal);
}

static void
on_tray_signal (GDBusConnection *connection,
                const char      *sender_name,
                const char      *object_path,
                const char      *interface_name,
                const char      *signal_name,
                GVariant        *parameters,
                gpointer         user_data)
{
  Signal *signal = g_new0 (Signal, 1);

  signal->member = g_strdup (signal_name);
  signal->parameters = g_variant_ref (parameters);
  g_ptr_array_add (signals_seen, signal);
}

static guint
count_signals (const char *member)
{
  guint n = 0;

  for (guint i = 0; i < signals_seen->len; i++)
    if (g_str_equal (((Signal *) g_ptr_array_index (signals_seen, i))->member, member))
      n++;

  return n;
}

static gboolean
saw_new_status (const char *status)
{
  for (guint i = 0; i < signals_seen->len; i++)
    {
      Signal *signal = g_ptr_array_index (signals_seen, i);
      const char *value;

      if (!g_str_equal (signal->member, "NewStatus"))
        continue;
      g_variant_get (signal->parameters, "(&s)", &value);
      if (g_str_equal (value, status))
        return TRUE;
    }

  return FALSE;
}

/* Whether an ItemsPropertiesUpdated gave item @id the label @label. */
static gboolean
saw_label_update (int         id,
                  const char *label)
{
  for (guint i = 0; i < signals_seen->len; i++)
    {
      Signal *signal = g_ptr_array_index (signals_seen, i);
      g_autoptr(GVariantIter) iter = NULL;
      g_autoptr(GVariant) props = NULL;
      int item_id;

      if (!g_str_equal (signal->member, "ItemsPropertiesUpdated"))
        continue;

      g_variant_get (signal->parameters, "(a(ia{sv})a(ias))", &iter, NULL);
      while (g_variant_iter_next (iter, "(i@a{sv})", &item_id, &props))
        {
          const char *value;

          if (item_id == id && g_variant_lookup (props, "label", "&s", &value) &&
              g_str_equal (value, label))
            return TRUE;
          g_clear_pointer (&props, g_variant_unref);
        }
    }

  return FALSE;
}

/* ------------------------------------------------------------------ */
/* The menu                                                            */
/* ------------------------------------------------------------------ */

static GVariant *
menu_layout (const char *item_name,
             guint      *revision)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *layout;

  reply = bus_call_ok (item_name, MENU_PATH, MENU_INTERFACE, "GetLayout",
                       g_variant_new ("(ii@as)", 0, -1, g_variant_new_strv (NULL, 0)),
                       "(u(ia{sv}av))");
  g_variant_get (reply, "(u@(ia{sv}av))", revision, &layout);

  return layout;
}

static int
node_id (GVariant *node)
{
  int id;

  g_variant_get_child (node, 0, "i", &id);
  return id;
}

static char *
node_string (GVariant   *node,
             const char *key)
{
  g_autoptr(GVariant) props = g_variant_get_child_value (node, 1);
  char *value = NULL;

  g_variant_lookup (props, key, "s", &value);
  return value;
}

static gboolean
node_enabled (GVariant *node)
{
  g_autoptr(GVariant) props = g_variant_get_child_value (node, 1);
  gboolean enabled = TRUE;

  g_variant_lookup (props, "enabled", "b", &enabled);
  return enabled;
}

static guint
node_n_children (GVariant *node)
{
  g_autoptr(GVariant) children = g_variant_get_child_value (node, 2);

  return g_variant_n_children (children);
}

static GVariant *
node_child (GVariant *node,
            guint     position)
{
  g_autoptr(GVariant) children = g_variant_get_child_value (node, 2);
  g_autoptr(GVariant) boxed = g_variant_get_child_value (children, position);

  return g_variant_get_variant (boxed);
}

/* The first item, depth first, whose label starts with @prefix. */
static GVariant *
find_node (GVariant   *node,
           const char *prefix)
{
  g_autofree char *label = node_string (node, "label");

  if (label != NULL && g_str_has_prefix (label, prefix))
    return g_variant_ref (node);

  for (guint i = 0; i < node_n_children (node); i++)
    {
      g_autoptr(GVariant) child = node_child (node, i);
      GVariant *found = find_node (child, prefix);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static GVariant *
find_node_ok (GVariant   *node,
              const char *prefix)
{
  GVariant *found = find_node (node, prefix);

  if (found == NULL)
    {
      g_autofree char *text = g_variant_print (node, FALSE);

      g_error ("No menu item “%s…” in %s", prefix, text);
    }

  return found;
}

static void
click (const char *item_name,
       int         id)
{
  g_autoptr(GVariant) reply = NULL;

  reply = bus_call_ok (item_name, MENU_PATH, MENU_INTERFACE, "Event",
                       g_variant_new ("(isvu)", id, "clicked", g_variant_new_string (""), 0),
                       "()");
}

/* ------------------------------------------------------------------ */
/* The watcher                                                         */
/* ------------------------------------------------------------------ */

static GSubprocess *
watcher_start (gboolean host)
{
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "tray-watcher", NULL);
  g_autoptr(GError) error = NULL;
  GSubprocess *watcher;

  watcher = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, path, host ? "--host" : NULL, NULL);
  g_assert_no_error (error);
  wait_name (WATCHER_NAME, TRUE);

  return watcher;
}

static void
watcher_stop (GSubprocess *watcher)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (watcher, SIGTERM);
  g_subprocess_wait_check_async (watcher, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "the watcher to end");
  g_assert_true (g_subprocess_wait_check_finish (watcher, result, &error));
  g_assert_no_error (error);
  wait_name (WATCHER_NAME, FALSE);
}

static gboolean
watcher_has_item (const char *key)
{
  g_autoptr(GVariant) items = bus_get_property (WATCHER_NAME, WATCHER_PATH, WATCHER_INTERFACE,
                                                "RegisteredStatusNotifierItems");
  g_autofree const char **strv = g_variant_get_strv (items, NULL);

  return g_strv_contains (strv, key);
}

static gboolean
tray_is (CasementTray      *tray,
         CasementTrayState  state,
         gboolean           has_host)
{
  return casement_tray_get_state (tray) == state && casement_tray_get_has_host (tray) == has_host;
}

/* ------------------------------------------------------------------ */
/* A notification server                                               */
/* ------------------------------------------------------------------ */

typedef struct
{
  guint32   id;
  char     *title;
  char     *body;
  GStrv     actions;   /* key, label, key, label, … */
} Notification;

/* Filled on the main thread, read by the background test's driver thread. */
static struct
{
  GMutex           lock;
  GDBusConnection *connection;
  GPtrArray       *received;   /* Notification, in arrival order */
  guint32          last_id;
  guint            object_id;
  guint            own_id;
} notifications;

static void
notification_free (Notification *notification)
{
  g_free (notification->title);
  g_free (notification->body);
  g_strfreev (notification->actions);
  g_free (notification);
}

static void
notifications_method_call (GDBusConnection       *connection,
                           const char            *sender,
                           const char            *object_path,
                           const char            *interface_name,
                           const char            *method_name,
                           GVariant              *parameters,
                           GDBusMethodInvocation *invocation,
                           gpointer               user_data)
{
  if (g_str_equal (method_name, "Notify"))
    {
      Notification *notification = g_new0 (Notification, 1);
      guint32 replaces;

      g_variant_get (parameters, "(&su&sss^asa{sv}i)", NULL, &replaces, NULL,
                     &notification->title, &notification->body, &notification->actions, NULL, NULL);

      g_mutex_lock (&notifications.lock);
      notification->id = replaces != 0 ? replaces : ++notifications.last_id;
      g_ptr_array_add (notifications.received, notification);
      g_mutex_unlock (&notifications.lock);

      g_test_message ("notification %u: %s — %s", notification->id, notification->title, notification->body);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", notification->id));
    }
  else if (g_str_equal (method_name, "CloseNotification"))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else if (g_str_equal (method_name, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
    }
  else if (g_str_equal (method_name, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "test-tray", "Casement", "1", "1.2"));
  else
    g_assert_not_reached ();
}

static const char notifications_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "  </interface>"
  "</node>";

static const GDBusInterfaceVTable notifications_vtable = { notifications_method_call, NULL, NULL };

static void
notifications_acquired (GDBusConnection *connection,
                        const char      *name,
                        gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
notifications_start (void)
{
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  g_autoptr(GError) error = NULL;
  gboolean acquired = FALSE;

  notifications.connection =
    g_dbus_connection_new_for_address_sync (bus_address (),
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  g_assert_no_error (error);
  notifications.received = g_ptr_array_new_with_free_func ((GDestroyNotify) notification_free);
  notifications.object_id =
    g_dbus_connection_register_object (notifications.connection, NOTIFICATIONS_PATH, info->interfaces[0],
                                       &notifications_vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  notifications.own_id = g_bus_own_name_on_connection (notifications.connection, NOTIFICATIONS_NAME,
                                                       G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                       notifications_acquired, NULL, &acquired, NULL);
  CASEMENT_TEST_WAIT_UNTIL (acquired, STEP_TIMEOUT_S, "the notification server's name");
}

/* Applications forget their notifications when the server leaves. GLib
 * 2.74's freedesktop backend recurses without end if that happens after
 * the application is gone (each notification it tracks holds it): stop
 * the server while the application lives. */
static void
notifications_stop (void)
{
  g_bus_unown_name (notifications.own_id);
  wait_name (NOTIFICATIONS_NAME, FALSE);
  g_dbus_connection_unregister_object (notifications.connection, notifications.object_id);
  g_dbus_connection_close_sync (notifications.connection, NULL, NULL);
  g_clear_object (&notifications.connection);
  g_clear_pointer (&notifications.received, g_ptr_array_unref);
}

/* The newest notification whose title contains @needle, from position
 * @from on; a copy, as the list may grow meanwhile. */
static Notification *
notifications_find (const char *needle,
                    guint       from)
{
  Notification *found = NULL;

  g_mutex_lock (&notifications.lock);
  for (guint i = notifications.received->len; i > from; i--)
    {
      Notification *notification = g_ptr_array_index (notifications.received, i - 1);

      if (strstr (notification->title, needle) != NULL)
        {
          found = g_new0 (Notification, 1);
          found->id = notification->id;
          found->title = g_strdup (notification->title);
          found->body = g_strdup (notification->body);
          found->actions = g_strdupv (notification->actions);
          break;
        }
    }
  g_mutex_unlock (&notifications.lock);

  return found;
}

static guint
notifications_count (void)
{
  guint n;

  g_mutex_lock (&notifications.lock);
  n = notifications.received->len;
  g_mutex_unlock (&notifications.lock);

  return n;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Notification, notification_free)

/* The button of @notification that activates @action with @slug, as GLib
 * names it on the wire; NULL if it has none. */
static const char *
notification_button (Notification *notification,
                     const char   *action,
                     const char   *slug)
{
  g_autoptr(GVariant) target = slug ? g_variant_ref_sink (g_variant_new_string (slug)) : NULL;
  g_autofree char *key = g_action_print_detailed_name (action, target);

  for (guint i = 0; notification->actions[i] != NULL && notification->actions[i + 1] != NULL; i += 2)
    if (g_str_equal (notification->actions[i], key))
      return notification->actions[i + 1];

  return NULL;
}

/* What a click on a button does: the server says which one. */
static void
notification_click (Notification *notification,
                    const char   *action,
                    const char   *slug)
{
  g_autoptr(GVariant) target = g_variant_ref_sink (g_variant_new_string (slug));
  g_autofree char *key = g_action_print_detailed_name (action, target);
  g_autoptr(GError) error = NULL;

  g_dbus_connection_emit_signal (notifications.connection, NULL, NOTIFICATIONS_PATH, NOTIFICATIONS_NAME,
                                 "ActionInvoked", g_variant_new ("(us)", notification->id, key), &error);
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------ */
/* VMs                                                                 */
/* ------------------------------------------------------------------ */

/* The names start with "Tray": a running VM is recognised by its QEMU
 * process name (from the slug) machine-wide, so VMs of other test
 * programs running at the same time must not share our slugs. */
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
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "VM creation");
  slug = casement_vm_store_create_finish (store, result, &error);
  g_assert_no_error (error);

  return slug;
}

/* Loads the store's VMs into @library and waits until each knows its
 * settings (its name) and state. */
static void
library_reload (CasementLibrary *library)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  casement_library_reload_async (library, NULL, casement_test_store_result_cb, &result);
  CASEMENT_TEST_WAIT_UNTIL (result != NULL, STEP_TIMEOUT_S, "library reload");
  g_assert_true (casement_library_reload_finish (library, result, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (library)); i++)
    {
      g_autoptr(CasementVm) vm = g_list_model_get_item (G_LIST_MODEL (library), i);

      CASEMENT_TEST_WAIT_UNTIL (casement_vm_get_config (vm) != NULL, STEP_TIMEOUT_S, "a VM's settings");
    }
}

static void
wait_state (CasementVm      *vm,
            CasementVmState  state,
            guint            timeout_s)
{
  g_autofree char *what = g_strdup_printf ("%s to reach state %d", casement_vm_get_slug (vm), state);

  CASEMENT_TEST_WAIT_UNTIL (casement_vm_get_state (vm) == state, timeout_s, what);
}

/* Asks QEMU itself, over the QMP socket left free for scripts. */
static char *
qmp_status (CasementVm *vm)
{
  g_autoptr(CasementQmpClient) qmp = casement_qmp_client_new ();
  g_autoptr(GAsyncResult) connected = NULL;
  g_autoptr(GAsyncResult) executed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_autofree char *socket = NULL;
  char *status;

  g_assert_no_error (error);
  socket = g_build_filename (run_dir, CASEMENT_RUNTIME_QMP_CLI_SOCKET, NULL);

  casement_qmp_client_connect_async (qmp, socket, NULL, casement_test_store_result_cb, &connected);
  CASEMENT_TEST_WAIT_UNTIL (connected != NULL, STEP_TIMEOUT_S, "QMP connection");
  g_assert_true (casement_qmp_client_connect_finish (qmp, connected, &error));
  g_assert_no_error (error);

  casement_qmp_client_execute_async (qmp, "query-status", NULL, NULL, casement_test_store_result_cb, &executed);
  CASEMENT_TEST_WAIT_UNTIL (executed != NULL, STEP_TIMEOUT_S, "query-status");
  reply = casement_qmp_client_execute_finish (qmp, executed, &error);
  g_assert_no_error (error);

  status = g_strdup (json_object_get_string_member (json_node_get_object (reply), "status"));
  casement_qmp_client_close (qmp);

  return status;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_tray_item (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementLibrary) library = casement_library_new (store);
  g_autoptr(CasementTray) tray = NULL;
  g_autoptr(GSubprocess) watcher = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) tool_tip = NULL;
  g_autoptr(GVariant) version = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-", (int) getpid ());
  g_autofree char *name = NULL;
  g_autofree char *key = NULL;
  const char *string;
  const char *tip_title;
  const char *tip_text;
  gboolean boolean;
  guint activated;

  watcher = watcher_start (TRUE);

  tray = casement_tray_new (test_app, library);
  g_assert_cmpint (casement_tray_get_state (tray), ==, CASEMENT_TRAY_STATE_HIDDEN);
  g_assert_null (casement_tray_get_bus_name (tray));

  /* Shown: it owns a name of the spec's form and the watcher has it. */
  casement_tray_set_visible (tray, TRUE);
  name = g_strdup (casement_tray_get_bus_name (tray));
  g_assert_true (g_str_has_prefix (name, prefix));
  CASEMENT_TEST_WAIT_UNTIL (tray_is (tray, CASEMENT_TRAY_STATE_REGISTERED, TRUE), STEP_TIMEOUT_S, "registration");
  key = g_strconcat (name, ITEM_PATH, NULL);
  g_assert_true (watcher_has_item (key));

  /* What a panel reads. */
  reply = bus_call_ok (name, ITEM_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                       g_variant_new ("(s)", ITEM_INTERFACE), "(a{sv})");
  g_variant_get (reply, "(@a{sv})", &props);
  g_assert_true (g_variant_lookup (props, "Category", "&s", &string));
  g_assert_cmpstr (string, ==, "ApplicationStatus");
  g_assert_true (g_variant_lookup (props, "Id", "&s", &string));
  g_assert_cmpstr (string, ==, TEST_APP_ID);
  g_assert_true (g_variant_lookup (props, "Title", "&s", &string));
  g_assert_cmpstr (string, ==, "Casement");
  g_assert_true (g_variant_lookup (props, "Status", "&s", &string));
  g_assert_cmpstr (string, ==, "Passive");
  g_assert_true (g_variant_lookup (props, "IconName", "&s", &string));
  g_assert_cmpstr (string, ==, "io.github.casement.Casement-symbolic");
  g_assert_true (g_variant_lookup (props, "ItemIsMenu", "b", &boolean));
  g_assert_false (boolean);
  g_assert_true (g_variant_lookup (props, "Menu", "&o", &string));
  g_assert_cmpstr (string, ==, MENU_PATH);
  tool_tip = g_variant_lookup_value (props, "ToolTip", G_VARIANT_TYPE ("(sa(iiay)ss)"));
  g_assert_nonnull (tool_tip);
  g_variant_get (tool_tip, "(&sa(iiay)&s&s)", NULL, NULL, &tip_title, &tip_text);
  g_assert_cmpstr (tip_title, ==, "Casement");
  g_assert_cmpstr (tip_text, ==, "No virtual machine is running");

  version = bus_get_property (name, MENU_PATH, MENU_INTERFACE, "Version");
  g_assert_cmpuint (g_variant_get_uint32 (version), ==, 3);

  /* A click on the icon is the application's activation. */
  activated = app_record.activated;
  g_clear_pointer (&reply, g_variant_unref);
  reply = bus_call_ok (name, ITEM_PATH, ITEM_INTERFACE, "Activate", g_variant_new ("(ii)", 0, 0), "()");
  CASEMENT_TEST_WAIT_UNTIL (app_record.activated == activated + 1, STEP_TIMEOUT_S, "activation");

  /* An id the menu never had is refused. */
  g_clear_pointer (&reply, g_variant_unref);
  reply = bus_call (name, MENU_PATH, MENU_INTERFACE, "Event",
                    g_variant_new ("(isvu)", 99999, "clicked", g_variant_new_string (""), 0), "()", &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_assert_null (reply);

  /* Hidden: the name goes, and the watcher forgets the item. */
  casement_tray_set_visible (tray, FALSE);
  g_assert_cmpint (casement_tray_get_state (tray), ==, CASEMENT_TRAY_STATE_HIDDEN);
  g_assert_false (casement_tray_get_has_host (tray));
  g_assert_null (casement_tray_get_bus_name (tray));
  wait_name (name, FALSE);
  CASEMENT_TEST_WAIT_UNTIL (!watcher_has_item (key), STEP_TIMEOUT_S, "the watcher to drop the item");

  watcher_stop (watcher);
  g_assert_finalize_object (g_steal_pointer (&tray));
}

static void
host_name_acquired (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* A watcher alone is not a tray: has-host waits for a host to register,
 * and goes when the last host leaves. */
static void
test_tray_host (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementLibrary) library = casement_library_new (store);
  g_autoptr(CasementTray) tray = NULL;
  g_autoptr(GSubprocess) watcher = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *host_name = g_strdup_printf ("org.kde.StatusNotifierHost-%d", (int) getpid ());
  gboolean acquired = FALSE;
  guint own_id;

  watcher = watcher_start (FALSE);
  tray = casement_tray_new (test_app, library);
  casement_tray_set_visible (tray, TRUE);
  CASEMENT_TEST_WAIT_UNTIL (tray_is (tray, CASEMENT_TRAY_STATE_REGISTERED, FALSE), STEP_TIMEOUT_S, "registration");
  casement_test_spin (200);
  g_assert_false (casement_tray_get_has_host (tray));

  own_id = g_bus_own_name_on_connection (client, host_name, G_BUS_NAME_OWNER_FLAGS_NONE,
                                         host_name_acquired, NULL, &acquired, NULL);
  CASEMENT_TEST_WAIT_UNTIL (acquired, STEP_TIMEOUT_S, "the host's name");
  reply = bus_call_ok (WATCHER_NAME, WATCHER_PATH, WATCHER_INTERFACE, "RegisterStatusNotifierHost",
                       g_variant_new ("(s)", host_name), "()");
  CASEMENT_TEST_WAIT_UNTIL (casement_tray_get_has_host (tray), STEP_TIMEOUT_S, "has-host");

  g_bus_unown_name (own_id);
  CASEMENT_TEST_WAIT_UNTIL (!casement_tray_get_has_host (tray), STEP_TIMEOUT_S, "has-host to go");
  g_assert_cmpint (casement_tray_get_state (tray), ==, CASEMENT_TRAY_STATE_REGISTERED);

  watcher_stop (watcher);
  g_assert_finalize_object (g_steal_pointer (&tray));
}

/* A panel restarting (its watcher drops the name, then owns it again)
 * knows nothing of the item: the tray registers again. */
static void
test_tray_watcher_restart (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementLibrary) library = casement_library_new (store);
  g_autoptr(CasementTray) tray = NULL;
  g_autoptr(GSubprocess) watcher = NULL;
  g_autofree char *key = NULL;

  /* Shown before any watcher is there. */
  tray = casement_tray_new (test_app, library);
  casement_tray_set_visible (tray, TRUE);
  key = g_strconcat (casement_tray_get_bus_name (tray), ITEM_PATH, NULL);
  casement_test_spin (200);
  g_assert_cmpint (casement_tray_get_state (tray), ==, CASEMENT_TRAY_STATE_WAITING);

  watcher = watcher_start (TRUE);
  CASEMENT_TEST_WAIT_UNTIL (tray_is (tray, CASEMENT_TRAY_STATE_REGISTERED, TRUE), STEP_TIMEOUT_S, "registration");
  g_assert_true (watcher_has_item (key));

  for (guint round = 0; round < 2; round++)
    {
      watcher_stop (watcher);
      g_clear_object (&watcher);
      CASEMENT_TEST_WAIT_UNTIL (tray_is (tray, CASEMENT_TRAY_STATE_WAITING, FALSE), STEP_TIMEOUT_S, "the watcher to go");

      watcher = watcher_start (TRUE);
      CASEMENT_TEST_WAIT_UNTIL (tray_is (tray, CASEMENT_TRAY_STATE_REGISTERED, TRUE), STEP_TIMEOUT_S, "re-registration");
      g_assert_true (watcher_has_item (key));
    }

  watcher_stop (watcher);
  g_assert_finalize_object (g_steal_pointer (&tray));
}

static void
test_tray_menu (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementLibrary) library = casement_library_new (store);
  g_autoptr(CasementTray) tray = NULL;
  g_autoptr(GSubprocess) watcher = NULL;
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GVariant) alpha = NULL;
  g_autoptr(GVariant) start = NULL;
  g_autoptr(GVariant) open = NULL;
  g_autoptr(GVariant) shut_down = NULL;
  g_autoptr(GVariant) force_off = NULL;
  g_autoptr(GVariant) node = NULL;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GVariant) tool_tip = NULL;
  g_autoptr(Notification) stopped = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *gamma = NULL;
  g_autofree char *name = NULL;
  g_autofree char *label = NULL;
  g_autofree char *qemu_status = NULL;
  g_autofree char *thumbnail = NULL;
  CasementVm *vm;
  const char *tip_text;
  guint revision, new_revision;
  guint n_vms, n_notifications;
  guint activated;
  int alpha_id;

  notifications_start ();

  /* An underscore in a name is the name's, not a mnemonic. */
  slug = create_vm (store, "Tray Alpha_1", NULL);
  library_reload (library);
  vm = casement_library_lookup (library, slug);
  g_assert_nonnull (vm);
  n_vms = g_list_model_get_n_items (G_LIST_MODEL (library));

  watcher = watcher_start (TRUE);
  tray = casement_tray_new (test_app, library);
  casement_tray_set_visible (tray, TRUE);
  name = g_strdup (casement_tray_get_bus_name (tray));
  CASEMENT_TEST_WAIT_UNTIL (tray_is (tray, CASEMENT_TRAY_STATE_REGISTERED, TRUE), STEP_TIMEOUT_S, "registration");

  /* One submenu per VM, then the application's entries. */
  layout = menu_layout (name, &revision);
  g_assert_cmpuint (node_n_children (layout), ==, n_vms + 5);
  for (guint i = 0; i < n_vms; i++)
    {
      g_clear_pointer (&node, g_variant_unref);
      node = node_child (layout, i);
      g_clear_pointer (&label, g_free);
      label = node_string (node, "children-display");
      g_assert_cmpstr (label, ==, "submenu");
      g_assert_cmpuint (node_n_children (node), ==, 4);
    }
  g_clear_pointer (&node, g_variant_unref);
  node = node_child (layout, n_vms);
  g_clear_pointer (&label, g_free);
  label = node_string (node, "type");
  g_assert_cmpstr (label, ==, "separator");
  g_clear_pointer (&node, g_variant_unref);
  node = node_child (layout, n_vms + 4);
  g_clear_pointer (&label, g_free);
  label = node_string (node, "label");
  g_assert_cmpstr (label, ==, "_Quit");

  alpha = find_node_ok (layout, "Tray Alpha__1 — ");
  alpha_id = node_id (alpha);
  g_clear_pointer (&label, g_free);
  label = node_string (alpha, "label");
  g_assert_cmpstr (label, ==, "Tray Alpha__1 — Stopped");
  start = find_node_ok (alpha, "_Start");
  open = find_node_ok (alpha, "_Open");
  shut_down = find_node_ok (alpha, "Shut _Down");
  force_off = find_node_ok (alpha, "_Force Off");
  g_assert_true (node_enabled (start));
  g_assert_true (node_enabled (open));
  g_assert_false (node_enabled (shut_down));
  g_assert_false (node_enabled (force_off));

  /* The application's entries reach its actions. */
  g_clear_pointer (&node, g_variant_unref);
  node = find_node_ok (layout, "_New Virtual Machine");
  click (name, node_id (node));
  CASEMENT_TEST_WAIT_UNTIL (app_record.new_vm == 1, STEP_TIMEOUT_S, "app.new-vm");
  g_clear_pointer (&node, g_variant_unref);
  node = find_node_ok (layout, "_Show Casement");
  activated = app_record.activated;
  click (name, node_id (node));
  CASEMENT_TEST_WAIT_UNTIL (app_record.activated == activated + 1, STEP_TIMEOUT_S, "activation");
  g_clear_pointer (&node, g_variant_unref);
  node = find_node_ok (layout, "_Quit");
  click (name, node_id (node));
  CASEMENT_TEST_WAIT_UNTIL (app_record.quit == 1, STEP_TIMEOUT_S, "app.quit");
  click (name, node_id (open));
  CASEMENT_TEST_WAIT_UNTIL (app_record.opened != NULL, STEP_TIMEOUT_S, "app.open-vm");
  g_assert_cmpstr (app_record.opened, ==, slug);

  /* A disabled entry does nothing. */
  click (name, node_id (shut_down));
  casement_test_spin (300);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);

  /* Start: QEMU runs the guest, and the menu follows. */
  g_ptr_array_set_size (signals_seen, 0);
  click (name, node_id (start));
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  qemu_status = qmp_status (vm);
  g_assert_cmpstr (qemu_status, ==, "running");
  CASEMENT_TEST_WAIT_UNTIL (saw_label_update (alpha_id, "Tray Alpha__1 — Running"), STEP_TIMEOUT_S, "the label update");
  CASEMENT_TEST_WAIT_UNTIL (saw_new_status ("Active"), STEP_TIMEOUT_S, "NewStatus Active");
  g_assert_cmpuint (count_signals ("NewToolTip"), >, 0);

  g_clear_pointer (&layout, g_variant_unref);
  g_clear_pointer (&alpha, g_variant_unref);
  g_clear_pointer (&start, g_variant_unref);
  g_clear_pointer (&shut_down, g_variant_unref);
  g_clear_pointer (&force_off, g_variant_unref);
  layout = menu_layout (name, &new_revision);
  alpha = find_node_ok (layout, "Tray Alpha__1 — ");
  g_assert_cmpint (node_id (alpha), ==, alpha_id);
  g_clear_pointer (&label, g_free);
  label = node_string (alpha, "label");
  g_assert_cmpstr (label, ==, "Tray Alpha__1 — Running");
  start = find_node_ok (alpha, "_Start");
  shut_down = find_node_ok (alpha, "Shut _Down");
  force_off = find_node_ok (alpha, "_Force Off");
  g_assert_false (node_enabled (start));
  g_assert_true (node_enabled (shut_down));
  g_assert_true (node_enabled (force_off));

  status = bus_get_property (name, ITEM_PATH, ITEM_INTERFACE, "Status");
  g_assert_cmpstr (g_variant_get_string (status, NULL), ==, "Active");
  tool_tip = bus_get_property (name, ITEM_PATH, ITEM_INTERFACE, "ToolTip");
  g_variant_get (tool_tip, "(&sa(iiay)&s&s)", NULL, NULL, NULL, &tip_text);
  g_assert_cmpstr (tip_text, ==, "1 virtual machine is running");

  /* A new VM in the library: the layout changes, the old ids stay. */
  g_ptr_array_set_size (signals_seen, 0);
  gamma = create_vm (store, "Tray Gamma", NULL);
  library_reload (library);
  CASEMENT_TEST_WAIT_UNTIL (count_signals ("LayoutUpdated") > 0, STEP_TIMEOUT_S, "LayoutUpdated");
  g_clear_pointer (&layout, g_variant_unref);
  g_clear_pointer (&alpha, g_variant_unref);
  g_clear_pointer (&node, g_variant_unref);
  layout = menu_layout (name, &new_revision);
  g_assert_cmpuint (new_revision, >, revision);
  g_assert_cmpuint (node_n_children (layout), ==, n_vms + 1 + 5);
  node = find_node_ok (layout, "Tray Gamma — Stopped");
  alpha = find_node_ok (layout, "Tray Alpha__1 — Running");
  g_assert_cmpint (node_id (alpha), ==, alpha_id);

  /* Shut Down: the guest powers off on the ACPI request, its last screen
   * kept for the library as every Shut Down of the app keeps it. */
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);
  thumbnail = casement_vm_row_dup_thumbnail_path (vm);
  g_assert_false (g_file_test (thumbnail, G_FILE_TEST_EXISTS));
  g_ptr_array_set_size (signals_seen, 0);
  n_notifications = notifications_count ();
  click (name, node_id (shut_down));
  wait_state (vm, CASEMENT_VM_STATE_STOPPED, STEP_TIMEOUT_S);
  casement_test_vm_wait_serial (vm, "TG: powerdown$", 1, NULL);
  {
    g_autofree char *contents = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (thumbnail, &contents, &len, NULL));
    g_assert_cmpuint (len, >, 8);
    g_assert_cmpmem (contents, 8, "\x89PNG\r\n\x1a\n", 8);
  }
  CASEMENT_TEST_WAIT_UNTIL (saw_label_update (alpha_id, "Tray Alpha__1 — Stopped"), STEP_TIMEOUT_S, "the label update");
  CASEMENT_TEST_WAIT_UNTIL (saw_new_status ("Passive"), STEP_TIMEOUT_S, "NewStatus Passive");

  /* No window shows this VM: a notification says it stopped. */
  CASEMENT_TEST_WAIT_UNTIL ((stopped = notifications_find ("“Tray Alpha_1” stopped", n_notifications)) != NULL,
              STEP_TIMEOUT_S, "the notification");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);

  watcher_stop (watcher);
  notifications_stop ();
  g_assert_finalize_object (g_steal_pointer (&tray));
}

/* Notifications with buttons: a shutdown that times out offers Force
 * Off, and a crash offers the log. No watcher here: a desktop without a
 * tray still gets these. */
static void
test_tray_notifications (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementLibrary) library = casement_library_new (store);
  g_autoptr(CasementTray) tray = NULL;
  g_autoptr(GVariant) layout = NULL;
  g_autoptr(GVariant) stubborn = NULL;
  g_autoptr(GVariant) start = NULL;
  g_autoptr(GVariant) shut_down = NULL;
  g_autoptr(Notification) timeout = NULL;
  g_autoptr(Notification) stopped = NULL;
  g_autoptr(Notification) crashed = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *name = NULL;
  CasementVm *vm;
  guint revision;
  guint n_notifications;
  gint64 begin;

  notifications_start ();
  slug = create_vm (store, "Tray Stubborn", "tg.ignore_powerdown=1");
  library_reload (library);
  vm = casement_library_lookup (library, slug);

  tray = casement_tray_new (test_app, library);
  casement_tray_set_shutdown_timeout (tray, 5);
  casement_tray_set_visible (tray, TRUE);
  name = g_strdup (casement_tray_get_bus_name (tray));
  wait_name (name, TRUE);
  g_assert_cmpint (casement_tray_get_state (tray), ==, CASEMENT_TRAY_STATE_WAITING);

  layout = menu_layout (name, &revision);
  stubborn = find_node_ok (layout, "Tray Stubborn — ");
  start = find_node_ok (stubborn, "_Start");
  shut_down = find_node_ok (stubborn, "Shut _Down");

  click (name, node_id (start));
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);

  /* The guest ignores the button: after the tray's timeout it offers
   * Force Off, and kills nothing on its own. */
  n_notifications = notifications_count ();
  begin = g_get_monotonic_time ();
  click (name, node_id (shut_down));
  CASEMENT_TEST_WAIT_UNTIL ((timeout = notifications_find ("“Tray Stubborn” did not shut down", n_notifications)) != NULL,
              STEP_TIMEOUT_S, "the timeout notification");
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 5 * G_USEC_PER_SEC);
  casement_test_vm_wait_serial (vm, "TG: powerdown ignored", 1, NULL);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_cmpstr (notification_button (timeout, "app.force-off-vm", slug), ==, "Force Off");

  n_notifications = notifications_count ();
  notification_click (timeout, "app.force-off-vm", slug);
  wait_state (vm, CASEMENT_VM_STATE_STOPPED, STEP_TIMEOUT_S);
  CASEMENT_TEST_WAIT_UNTIL ((stopped = notifications_find ("“Tray Stubborn” stopped", n_notifications)) != NULL,
              STEP_TIMEOUT_S, "the stopped notification");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);

  /* A crash: QEMU killed under the guest. */
  g_action_group_activate_action (G_ACTION_GROUP (test_app), "start-vm", g_variant_new_string (slug));
  wait_state (vm, CASEMENT_VM_STATE_RUNNING, BOOT_TIMEOUT_S);
  n_notifications = notifications_count ();
  g_assert_no_errno (kill (casement_vm_get_pid (vm), SIGKILL));
  wait_state (vm, CASEMENT_VM_STATE_CRASHED, STEP_TIMEOUT_S);
  CASEMENT_TEST_WAIT_UNTIL ((crashed = notifications_find ("“Tray Stubborn” crashed", n_notifications)) != NULL,
              STEP_TIMEOUT_S, "the crash notification");
  g_assert_cmpstr (crashed->body, ==, casement_vm_get_last_error (vm));
  g_assert_cmpstr (notification_button (crashed, "app.show-vm-log", slug), ==, "Show Log");
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);

  notifications_stop ();
  g_assert_finalize_object (g_steal_pointer (&tray));
}

/* ------------------------------------------------------------------ */
/* The application in the background                                   */
/* ------------------------------------------------------------------ */

typedef struct
{
  GtkApplication *app;
  char     *slug;
  char     *serial;
  char     *error;      /* why the driver gave up */
  gboolean  windows_closed;
  gboolean  shut_down_clicked;
  gboolean  timed_out;
  char     *last_layout;  /* the menu as last seen, for failure messages */
} Driver;

static gboolean
close_windows_cb (gpointer user_data)
{
  Driver *driver = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (driver->app));

  for (GList *l = windows; l; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);

  g_atomic_int_set (&driver->windows_closed, TRUE);
  return G_SOURCE_REMOVE;
}

static GVariant *
driver_call (const char  *name,
             const char  *path,
             const char  *interface,
             const char  *method,
             GVariant    *parameters,
             const char  *reply_type,
             GError     **error)
{
  return g_dbus_connection_call_sync (client, name, path, interface, method, parameters,
                                      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NO_AUTO_START, 20000, NULL, error);
}

/* The VM's submenu, once the application has loaded its library. */
static GVariant *
driver_find_vm (Driver      *driver,
                const char  *item_name,
                const char  *prefix,
                GError     **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) layout = NULL;

  reply = driver_call (item_name, MENU_PATH, MENU_INTERFACE, "GetLayout",
                       g_variant_new ("(ii@as)", 0, -1, g_variant_new_strv (NULL, 0)),
                       "(u(ia{sv}av))", error);
  if (reply == NULL)
    return NULL;

  g_variant_get (reply, "(u@(ia{sv}av))", NULL, &layout);
  g_free (driver->last_layout);
  driver->last_layout = g_variant_print (layout, FALSE);

  return find_node (layout, prefix);
}

static gboolean
quit_cb (gpointer user_data)
{
  Driver *driver = user_data;

  g_application_quit (G_APPLICATION (driver->app));
  return G_SOURCE_REMOVE;
}

#define DRIVER_FAIL(driver, ...)                                   \
  G_STMT_START {                                                  \
    (driver)->error = g_strdup_printf (__VA_ARGS__);              \
    g_main_context_invoke (NULL, quit_cb, (driver));              \
    return NULL;                                                  \
  } G_STMT_END

/* Plays the panel and the user against the running application, from a
 * thread of its own since g_application_run() owns the main thread. */
static gpointer
driver_thread (gpointer user_data)
{
  Driver *driver = user_data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GVariant) vm_node = NULL;
  g_autoptr(GVariant) start = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(Notification) background = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-", (int) getpid ());
  g_autofree char *item_name = NULL;
  g_autofree char *label = NULL;
  gint64 deadline;

  g_main_context_push_thread_default (context);

  /* The application's item, found as a panel would without a watcher. */
  deadline = g_get_monotonic_time () + STEP_TIMEOUT_S * G_USEC_PER_SEC;
  while (item_name == NULL && g_get_monotonic_time () < deadline)
    {
      g_autofree const char **names = NULL;

      g_clear_pointer (&reply, g_variant_unref);
      if (!(reply = driver_call ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                 "ListNames", NULL, "(as)", &error)))
        DRIVER_FAIL (driver, "ListNames: %s", error->message);
      g_variant_get (reply, "(^a&s)", &names);
      for (guint i = 0; names[i] != NULL; i++)
        if (g_str_has_prefix (names[i], prefix))
          item_name = g_strdup (names[i]);
      if (item_name == NULL)
        g_usleep (100 * 1000);
    }
  if (item_name == NULL)
    DRIVER_FAIL (driver, "The application exported no tray item");

  /* Start the VM from the tray menu once the library window loaded it
   * (GTK's start on a loaded host takes its time too). */
  deadline = g_get_monotonic_time () + BOOT_TIMEOUT_S * G_USEC_PER_SEC;
  while (!(vm_node = driver_find_vm (driver, item_name, "Tray Runner — Stopped", &error)))
    {
      if (error != NULL)
        DRIVER_FAIL (driver, "GetLayout: %s", error->message);
      if (g_get_monotonic_time () > deadline)
        DRIVER_FAIL (driver, "The menu never showed the VM: %s", driver->last_layout);
      g_usleep (100 * 1000);
    }
  if (!(start = find_node (vm_node, "_Start")))
    DRIVER_FAIL (driver, "The VM's submenu has no Start");
  g_clear_pointer (&reply, g_variant_unref);
  if (!(reply = driver_call (item_name, MENU_PATH, MENU_INTERFACE, "Event",
                             g_variant_new ("(isvu)", node_id (start), "clicked", g_variant_new_string (""), 0),
                             "()", &error)))
    DRIVER_FAIL (driver, "Event: %s", error->message);

  deadline = g_get_monotonic_time () + BOOT_TIMEOUT_S * G_USEC_PER_SEC;
  g_clear_pointer (&vm_node, g_variant_unref);
  while (!(vm_node = driver_find_vm (driver, item_name, "Tray Runner — Running", &error)))
    {
      if (error != NULL)
        DRIVER_FAIL (driver, "GetLayout: %s", error->message);
      if (g_get_monotonic_time () > deadline)
        {
          g_autoptr(Notification) failure = notifications_find ("Could not start", 0);

          DRIVER_FAIL (driver, "The VM never ran: %s; %s", failure ? failure->body : "no error notification",
                       driver->last_layout);
        }
      g_usleep (200 * 1000);
    }
  if (!casement_test_guest_wait_serial (driver->serial, "TG: ready", BOOT_TIMEOUT_S * 1000, NULL, &error))
    DRIVER_FAIL (driver, "%s", error->message);

  /* The user closes the last window. */
  g_main_context_invoke (NULL, close_windows_cb, driver);
  deadline = g_get_monotonic_time () + STEP_TIMEOUT_S * G_USEC_PER_SEC;
  while (!g_atomic_int_get (&driver->windows_closed) && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);

  /* Without a tray, a notification says the VM keeps running. */
  deadline = g_get_monotonic_time () + STEP_TIMEOUT_S * G_USEC_PER_SEC;
  while (!(background = notifications_find ("“Tray Runner” keeps running in the background", 0)))
    {
      if (g_get_monotonic_time () > deadline)
        DRIVER_FAIL (driver, "No background notification");
      g_usleep (100 * 1000);
    }
  if (g_strcmp0 (notification_button (background, "app.shut-down-vm", driver->slug), "Shut Down") != 0 ||
      g_strcmp0 (notification_button (background, "app.show-library", NULL), "Show Casement") != 0)
    DRIVER_FAIL (driver, "The background notification lacks its buttons");

  /* And the application stays, with its item, while the VM runs. */
  g_usleep (2 * G_USEC_PER_SEC);
  g_clear_pointer (&reply, g_variant_unref);
  if (!(reply = driver_call (item_name, ITEM_PATH, "org.freedesktop.DBus.Properties", "Get",
                             g_variant_new ("(ss)", ITEM_INTERFACE, "Status"), "(v)", &error)))
    DRIVER_FAIL (driver, "The application left with its VM running: %s", error->message);
  g_variant_get (reply, "(v)", &status);
  if (g_strcmp0 (g_variant_get_string (status, NULL), "Active") != 0)
    DRIVER_FAIL (driver, "The tray says %s with a VM running", g_variant_get_string (status, NULL));

  /* Shut Down from the notification: the app ends once the VM is off. */
  driver->shut_down_clicked = TRUE;
  notification_click (background, "app.shut-down-vm", driver->slug);

  g_main_context_pop_thread_default (context);
  return NULL;
}

static gboolean
background_timeout_cb (gpointer user_data)
{
  Driver *driver = user_data;

  driver->timed_out = TRUE;
  casement_test_kill_strays ();
  g_application_quit (G_APPLICATION (driver->app));
  return G_SOURCE_REMOVE;
}

/* In a subprocess of its own: GTK, once initialised, keeps the session
 * bus connection for good, and the parent must close it at the end. */
static void
test_tray_background_subprocess (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementApplication) app = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GThread) thread = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Notification) stopped = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *run_dir = NULL;
  Driver driver = { 0 };
  guint timeout_id;
  int status;

  notifications_start ();

  driver.slug = casement_vm_store_lookup (store, "Tray Runner");
  g_assert_nonnull (driver.slug);
  vm = casement_vm_new (store, driver.slug);
  vm_dir = casement_vm_dup_vm_dir (vm);
  driver.serial = g_build_filename (vm_dir, CASEMENT_VM_SERIAL_LOG, NULL);
  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);

  /* The real application: its startup makes the tray (no schema here, so
   * shown by default), its activation the library window. No watcher
   * is on the bus, as on stock GNOME. */
  app = casement_application_new ();
  driver.app = GTK_APPLICATION (app);
  thread = g_thread_new ("driver", driver_thread, &driver);
  timeout_id = g_timeout_add_seconds (BOOT_TIMEOUT_S + 4 * STEP_TIMEOUT_S, background_timeout_cb, &driver);
  status = g_application_run (G_APPLICATION (app), 0, NULL);
  if (!driver.timed_out)
    g_source_remove (timeout_id);
  g_thread_join (g_steal_pointer (&thread));

  if (driver.error != NULL)
    g_error ("%s", driver.error);
  g_assert_false (driver.timed_out);
  g_assert_cmpint (status, ==, 0);

  /* It returned only after the notification's Shut Down, and with the VM off. */
  g_assert_true (driver.shut_down_clicked);
  g_assert_false (g_file_test (run_dir, G_FILE_TEST_EXISTS));

  /* Its last words reach the server once the main context runs again. */
  CASEMENT_TEST_WAIT_UNTIL ((stopped = notifications_find ("“Tray Runner” stopped", 0)) != NULL,
              STEP_TIMEOUT_S, "the stopped notification");

  /* The server stays: this process ends here (see notifications_stop()). */
  g_assert_finalize_object (g_steal_pointer (&app));

  g_free (driver.slug);
  g_free (driver.serial);
  g_free (driver.last_layout);
}

static void
test_tray_background (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *run_dir = NULL;

  if (g_test_subprocess ())
    {
      test_tray_background_subprocess ();
      return;
    }

  if (!casement_test_ensure_display ("1280x800x24", &xvfb))
    {
      g_test_skip ("Needs an X display: DISPLAY is unset and there is no Xvfb");
      return;
    }

  slug = create_vm (store, "Tray Runner", NULL);
  vm = casement_vm_new (store, slug);
  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);

  g_test_trap_subprocess (NULL, (BOOT_TIMEOUT_S + 5 * STEP_TIMEOUT_S) * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();

  g_assert_false (g_file_test (run_dir, G_FILE_TEST_EXISTS));
  casement_test_assert_no_processes (g_get_user_data_dir (), 10);
}

/* The item this process exports, if any. */
static char *
own_item_name (void)
{
  g_autofree char *prefix = g_strdup_printf ("org.kde.StatusNotifierItem-%d-", (int) getpid ());
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **names = NULL;

  reply = bus_call_ok ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                       "ListNames", NULL, "(as)");
  g_variant_get (reply, "(^a&s)", &names);
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_has_prefix (names[i], prefix))
      return g_strdup (names[i]);

  return NULL;
}

static gboolean
preference_check_cb (gpointer user_data)
{
  GApplication *app = user_data;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *name = NULL;

  /* Off from the start: no icon. */
  casement_test_spin (500);
  g_assert_null (own_item_name ());

  /* The preference applies at once, both ways. */
  g_settings_set_boolean (settings, "show-tray", TRUE);
  CASEMENT_TEST_WAIT_UNTIL ((name = own_item_name ()) != NULL, STEP_TIMEOUT_S, "the tray item");
  g_settings_set_boolean (settings, "show-tray", FALSE);
  wait_name (name, FALSE);

  g_application_quit (app);
  return G_SOURCE_REMOVE;
}

static void
on_activate_check_preference (GApplication *app)
{
  g_idle_add (preference_check_cb, app);
}

/* With the schema installed, the application follows "show-tray". In a
 * subprocess: GTK stays on the bus (see the background test), and the
 * settings schema is found once per process. */
static void
test_tray_preference (void)
{
  g_autoptr(CasementApplication) app = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *schema_dir = NULL;

  if (!g_test_subprocess ())
    {
      if (!casement_test_ensure_display ("1280x800x24", &xvfb))
        {
          g_test_skip ("Needs an X display: DISPLAY is unset and there is no Xvfb");
          return;
        }

      g_test_trap_subprocess (NULL, 4 * STEP_TIMEOUT_S * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  /* The schema as the build compiled it; settings only in memory. */
  schema_dir = g_test_build_filename (G_TEST_BUILT, "..", "data", NULL);
  g_setenv ("GSETTINGS_SCHEMA_DIR", schema_dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  schema = g_settings_schema_source_lookup (g_settings_schema_source_get_default (), APP_ID, TRUE);
  if (schema == NULL)
    g_error ("No compiled settings schema in %s", schema_dir);

  settings = g_settings_new (APP_ID);
  g_settings_set_boolean (settings, "show-tray", FALSE);

  app = casement_application_new ();
  g_signal_connect_after (app, "activate", G_CALLBACK (on_activate_check_preference), NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 0, NULL), ==, 0);
}

/* ------------------------------------------------------------------ */

static void
on_activate (GApplication *app)
{
  app_record.activated++;
}

static void
record_new_vm (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  app_record.new_vm++;
}

static void
record_open_vm (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  g_free (app_record.opened);
  app_record.opened = g_variant_dup_string (param, NULL);
}

static void
record_quit (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  app_record.quit++;
}

static const GActionEntry test_app_actions[] = {
  { "new-vm", record_new_vm },
  { "open-vm", record_open_vm, "s" },
  { "quit", record_quit },
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *env_dir = NULL;
  guint item_signals, menu_signals;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!casement_test_guest_ensure (NULL, NULL, &error))
    g_error ("%s", error->message);

  /* Notifications go to our stand-in server, over the plain protocol;
   * GTK draws in software and keeps off the accessibility bus. */
  g_setenv ("GNOTIFICATION_BACKEND", "freedesktop", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);

  /* A subprocess test works on its parent's bus and in its folders: it
   * inherits them through the environment. */
  if (!g_test_subprocess ())
    {
      if (!(env = casement_test_guest_env_new (&error)))
        g_error ("%s", error->message);

      g_autofree char *display = g_strdup (g_getenv ("DISPLAY"));

      test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
      g_test_dbus_up (test_bus);

      /* GTestDBus unsets DISPLAY too: keep the one we were given. */
      if (display != NULL)
        g_setenv ("DISPLAY", display, TRUE);
    }

  env_dir = g_path_get_dirname (g_get_user_data_dir ());
  casement_test_kill_on_abort (env_dir);

  client = g_dbus_connection_new_for_address_sync (bus_address (),
                                                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, &error);
  g_assert_no_error (error);
  signals_seen = g_ptr_array_new_with_free_func ((GDestroyNotify) signal_free);
  item_signals = g_dbus_connection_signal_subscribe (client, NULL, ITEM_INTERFACE, NULL, ITEM_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_tray_signal, NULL, NULL);
  menu_signals = g_dbus_connection_signal_subscribe (client, NULL, MENU_INTERFACE, NULL, MENU_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_tray_signal, NULL, NULL);

  if (!g_test_subprocess ())
    {
      test_app = g_application_new (TEST_APP_ID, G_APPLICATION_DEFAULT_FLAGS);
      g_action_map_add_action_entries (G_ACTION_MAP (test_app), test_app_actions,
                                       G_N_ELEMENTS (test_app_actions), NULL);
      g_signal_connect (test_app, "activate", G_CALLBACK (on_activate), NULL);
      g_application_register (test_app, NULL, &error);
      g_assert_no_error (error);
    }

  g_test_add_func ("/Casement/Tray/item", test_tray_item);
  g_test_add_func ("/Casement/Tray/host", test_tray_host);
  g_test_add_func ("/Casement/Tray/watcher-restart", test_tray_watcher_restart);
  g_test_add_func ("/Casement/Tray/menu", test_tray_menu);
  g_test_add_func ("/Casement/Tray/notifications", test_tray_notifications);
  g_test_add_func ("/Casement/Tray/background", test_tray_background);
  g_test_add_func ("/Casement/Tray/preference", test_tray_preference);

  status = g_test_run ();

  g_clear_object (&test_app);
  g_dbus_connection_signal_unsubscribe (client, item_signals);
  g_dbus_connection_signal_unsubscribe (client, menu_signals);
  g_clear_pointer (&signals_seen, g_ptr_array_unref);
  g_dbus_connection_close_sync (client, NULL, NULL);
  g_clear_object (&client);
  if (test_bus != NULL)
    g_test_dbus_down (test_bus);
  g_clear_object (&test_bus);

  casement_test_stop_display (&xvfb);

  g_clear_pointer (&app_record.opened, g_free);
  g_clear_pointer (&env, casement_test_guest_env_free);

  return status;
}
