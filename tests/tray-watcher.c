/* tray-watcher.c
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

/* A small org.kde.StatusNotifierWatcher for the tray tests: what a panel
 * (KDE's, GNOME's AppIndicator extension, …) runs on the session bus.
 *
 *   tray-watcher [--host]
 *
 * Owns org.kde.StatusNotifierWatcher on the session bus (exits 1 if it
 * cannot), keeps the items and hosts that register (dropping them when
 * their name leaves the bus) and says so with the spec's signals. With
 * --host it counts as a host itself, as a panel's watcher does. Ends on
 * SIGTERM or SIGINT, or when the bus goes. */

#include "config.h"

#include <signal.h>

#include <glib-unix.h>
#include <gio/gio.h>

#define WATCHER_NAME      "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH      "/StatusNotifierWatcher"
#define WATCHER_INTERFACE "org.kde.StatusNotifierWatcher"
#define DEFAULT_ITEM_PATH "/StatusNotifierItem"

static const char watcher_xml[] =
  "<node>"
  "  <interface name='org.kde.StatusNotifierWatcher'>"
  "    <method name='RegisterStatusNotifierItem'>"
  "      <arg name='service' type='s' direction='in'/>"
  "    </method>"
  "    <method name='RegisterStatusNotifierHost'>"
  "      <arg name='service' type='s' direction='in'/>"
  "    </method>"
  "    <property name='RegisteredStatusNotifierItems' type='as' access='read'/>"
  "    <property name='IsStatusNotifierHostRegistered' type='b' access='read'/>"
  "    <property name='ProtocolVersion' type='i' access='read'/>"
  "    <signal name='StatusNotifierItemRegistered'>"
  "      <arg type='s'/>"
  "    </signal>"
  "    <signal name='StatusNotifierItemUnregistered'>"
  "      <arg type='s'/>"
  "    </signal>"
  "    <signal name='StatusNotifierHostRegistered'/>"
  "    <signal name='StatusNotifierHostUnregistered'/>"
  "  </interface>"
  "</node>";

typedef struct
{
  GMainLoop       *loop;
  GDBusConnection *connection;
  GHashTable      *items;        /* "<bus name><path>" → bus name watch id */
  GHashTable      *hosts;        /* bus name → bus name watch id */
  gboolean         own_host;
  int              status;
} Watcher;

typedef struct
{
  Watcher *watcher;
  char    *key;
} Registration;

static void
registration_free (gpointer data)
{
  Registration *registration = data;

  g_free (registration->key);
  g_free (registration);
}

static void
unwatch (gpointer data)
{
  g_bus_unwatch_name (GPOINTER_TO_UINT (data));
}

static void
emit (Watcher    *watcher,
      const char *signal,
      GVariant   *parameters)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_connection_emit_signal (watcher->connection, NULL, WATCHER_PATH, WATCHER_INTERFACE,
                                      signal, parameters, &error))
    g_printerr ("tray-watcher: could not emit %s: %s\n", signal, error->message);
}

static gboolean
host_registered (Watcher *watcher)
{
  return watcher->own_host || g_hash_table_size (watcher->hosts) > 0;
}

static void
item_vanished (GDBusConnection *connection,
               const char      *name,
               gpointer         user_data)
{
  Registration *registration = user_data;
  Watcher *watcher = registration->watcher;
  g_autofree char *key = g_strdup (registration->key);

  /* Removing the entry unwatches, which frees @registration. */
  if (g_hash_table_remove (watcher->items, key))
    emit (watcher, "StatusNotifierItemUnregistered", g_variant_new ("(s)", key));
}

static void
host_vanished (GDBusConnection *connection,
               const char      *name,
               gpointer         user_data)
{
  Registration *registration = user_data;
  Watcher *watcher = registration->watcher;
  g_autofree char *key = g_strdup (registration->key);

  if (g_hash_table_remove (watcher->hosts, key) && !host_registered (watcher))
    emit (watcher, "StatusNotifierHostUnregistered", NULL);
}

/* Watches @name until it leaves the bus, then calls @vanished. */
static guint
watch_registration (Watcher                 *watcher,
                    const char              *name,
                    const char              *key,
                    GBusNameVanishedCallback vanished)
{
  Registration *registration = g_new0 (Registration, 1);

  registration->watcher = watcher;
  registration->key = g_strdup (key);

  return g_bus_watch_name_on_connection (watcher->connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                         NULL, vanished, registration, registration_free);
}

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *object_path,
             const char            *interface_name,
             const char            *method_name,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  Watcher *watcher = user_data;
  const char *service;
  g_autofree char *name = NULL;
  g_autofree char *key = NULL;

  g_variant_get (parameters, "(&s)", &service);

  /* As KDE's watcher does: a path means "this path of the sender", a
   * bus name means the default path behind that name. */
  if (service[0] == '/')
    {
      name = g_strdup (sender);
      key = g_strconcat (sender, service, NULL);
    }
  else if (g_dbus_is_name (service))
    {
      name = g_strdup (service);
      key = g_strconcat (service, DEFAULT_ITEM_PATH, NULL);
    }
  else
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                             "“%s” is neither a bus name nor an object path", service);
      return;
    }

  if (g_str_equal (method_name, "RegisterStatusNotifierItem"))
    {
      if (!g_hash_table_contains (watcher->items, key))
        {
          g_hash_table_insert (watcher->items, g_strdup (key),
                               GUINT_TO_POINTER (watch_registration (watcher, name, key, item_vanished)));
          emit (watcher, "StatusNotifierItemRegistered", g_variant_new ("(s)", key));
        }
    }
  else if (g_str_equal (method_name, "RegisterStatusNotifierHost"))
    {
      if (!g_hash_table_contains (watcher->hosts, name))
        {
          gboolean had_host = host_registered (watcher);

          g_hash_table_insert (watcher->hosts, g_strdup (name),
                               GUINT_TO_POINTER (watch_registration (watcher, name, name, host_vanished)));
          if (!had_host)
            emit (watcher, "StatusNotifierHostRegistered", NULL);
        }
    }

  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
get_property (GDBusConnection  *connection,
              const char       *sender,
              const char       *object_path,
              const char       *interface_name,
              const char       *property_name,
              GError          **error,
              gpointer          user_data)
{
  Watcher *watcher = user_data;

  if (g_str_equal (property_name, "RegisteredStatusNotifierItems"))
    {
      g_autofree const char **keys = (const char **) g_hash_table_get_keys_as_array (watcher->items, NULL);

      return g_variant_new_strv (keys, -1);
    }
  if (g_str_equal (property_name, "IsStatusNotifierHostRegistered"))
    return g_variant_new_boolean (host_registered (watcher));
  if (g_str_equal (property_name, "ProtocolVersion"))
    return g_variant_new_int32 (0);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property_name);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, NULL };

static void
name_lost (GDBusConnection *connection,
           const char      *name,
           gpointer         user_data)
{
  Watcher *watcher = user_data;

  g_printerr ("tray-watcher: could not own %s (or lost the bus)\n", name);
  watcher->status = 1;
  g_main_loop_quit (watcher->loop);
}

static gboolean
quit_on_signal (gpointer user_data)
{
  Watcher *watcher = user_data;

  g_main_loop_quit (watcher->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  Watcher watcher = { 0 };
  gboolean own_host = FALSE;
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_NONE, &own_host, "Count as a StatusNotifierHost", NULL },
    { NULL }
  };
  guint object_id;
  guint own_id;

  context = g_option_context_new (NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("tray-watcher: %s\n", error->message);
      return 2;
    }

  info = g_dbus_node_info_new_for_xml (watcher_xml, &error);
  g_assert_no_error (error);

  if (!(watcher.connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error)))
    {
      g_printerr ("tray-watcher: no session bus: %s\n", error->message);
      return 1;
    }

  watcher.loop = g_main_loop_new (NULL, FALSE);
  watcher.own_host = own_host;
  watcher.items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unwatch);
  watcher.hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unwatch);

  object_id = g_dbus_connection_register_object (watcher.connection, WATCHER_PATH, info->interfaces[0],
                                                 &vtable, &watcher, NULL, &error);
  g_assert_no_error (error);

  /* Exported before the name is owned: whoever sees the name finds the
   * object. */
  own_id = g_bus_own_name_on_connection (watcher.connection, WATCHER_NAME,
                                         G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                         NULL, name_lost, &watcher, NULL);

  g_unix_signal_add (SIGTERM, quit_on_signal, &watcher);
  g_unix_signal_add (SIGINT, quit_on_signal, &watcher);

  g_main_loop_run (watcher.loop);

  g_bus_unown_name (own_id);
  g_dbus_connection_unregister_object (watcher.connection, object_id);
  g_hash_table_unref (watcher.items);
  g_hash_table_unref (watcher.hosts);
  g_dbus_connection_flush_sync (watcher.connection, NULL, NULL);
  g_object_unref (watcher.connection);
  g_main_loop_unref (watcher.loop);

  return watcher.status;
}
