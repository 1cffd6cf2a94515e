/* casement-application.c
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

#define G_LOG_DOMAIN "casement-application"

#include "config.h"

#include <glib/gi18n.h>

#include "casement-application.h"
#include "casement-display.h"
#include "casement-library.h"
#include "casement-preferences.h"
#include "casement-tray.h"
#include "casement-vm-window.h"
#include "casement-window.h"
#include "casement-wizard.h"

struct _CasementApplication
{
  AdwApplication   parent_instance;

  CasementLibrary *library;

  /* Tray icon, background running, notifications */
  CasementTray    *tray;
  GSettings       *settings;
};

G_DEFINE_FINAL_TYPE (CasementApplication, casement_application, ADW_TYPE_APPLICATION)

static GtkWindow *
casement_application_get_library_window (CasementApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (CASEMENT_IS_WINDOW (l->data))
      return l->data;

  return NULL;
}

static void
casement_application_activate (GApplication *app)
{
  CasementApplication *self = CASEMENT_APPLICATION (app);
  GtkWindow *window;

  window = casement_application_get_library_window (self);
  if (window == NULL)
    window = GTK_WINDOW (casement_window_new (ADW_APPLICATION (app), self->library));

  gtk_window_present (window);
}

static void
casement_application_new_vm_action (GSimpleAction *action,
                                    GVariant      *param,
                                    gpointer       user_data)
{
  CasementApplication *self = user_data;
  GtkWindow *window;

  g_assert (CASEMENT_IS_APPLICATION (self));

  /* One wizard at a time: a second request brings it back. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (CASEMENT_IS_WIZARD (l->data))
        {
          gtk_window_present (l->data);
          return;
        }
    }

  g_application_activate (G_APPLICATION (self));
  window = casement_application_get_library_window (self);
  gtk_window_present (GTK_WINDOW (casement_wizard_new (window, self->library, NULL)));
}

static void
casement_application_about_action (GSimpleAction *action,
                                   GVariant      *param,
                                   gpointer       user_data)
{
  CasementApplication *self = user_data;
  GtkWidget *about;

  g_assert (CASEMENT_IS_APPLICATION (self));

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-name", _("Casement"),
                        "application-icon", APP_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Windows virtual machines on Linux, done right"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developer-name", _("The Casement authors"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
casement_application_preferences_action (GSimpleAction *action,
                                         GVariant      *param,
                                         gpointer       user_data)
{
  CasementApplication *self = user_data;
  CasementPreferences *preferences;

  g_assert (CASEMENT_IS_APPLICATION (self));

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (CASEMENT_IS_PREFERENCES (l->data))
        {
          gtk_window_present (l->data);
          return;
        }
    }

  preferences = casement_preferences_new (gtk_application_get_active_window (GTK_APPLICATION (self)),
                                          self->settings);
  gtk_window_set_application (GTK_WINDOW (preferences), GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
casement_application_quit_action (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static gboolean
casement_application_present_vm (CasementApplication *self,
                                 const char          *slug)
{
  CasementVm *vm;

  /* One window per VM: bring back the one that exists. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (CASEMENT_IS_VM_WINDOW (l->data) &&
          g_strcmp0 (casement_vm_get_slug (casement_vm_window_get_vm (l->data)), slug) == 0)
        {
          gtk_window_present (l->data);
          return TRUE;
        }
    }

  if (!(vm = casement_library_lookup (self->library, slug)))
    return FALSE;

  gtk_window_present (GTK_WINDOW (casement_vm_window_new (ADW_APPLICATION (self), vm)));
  return TRUE;
}

static void
casement_application_open_vm_reloaded (GObject      *object,
                                       GAsyncResult *result,
                                       gpointer      user_data)
{
  g_autofree char *slug = user_data;
  CasementApplication *self = CASEMENT_APPLICATION (g_application_get_default ());
  g_autoptr(GError) error = NULL;

  if (!casement_library_reload_finish (CASEMENT_LIBRARY (object), result, &error))
    g_warning ("Cannot list virtual machines: %s", error->message);

  if (!casement_application_present_vm (self, slug))
    g_warning ("No virtual machine “%s” to open", slug);

  g_application_release (G_APPLICATION (self));
}

static void
casement_application_open_vm_action (GSimpleAction *action,
                                     GVariant      *param,
                                     gpointer       user_data)
{
  CasementApplication *self = user_data;
  const char *slug = g_variant_get_string (param, NULL);

  g_assert (CASEMENT_IS_APPLICATION (self));

  if (casement_application_present_vm (self, slug))
    return;

  /* Asked for at start-up (--open-vm), before the library was read. */
  g_application_hold (G_APPLICATION (self));
  casement_library_reload_async (self->library, NULL,
                                 casement_application_open_vm_reloaded, g_strdup (slug));
}

static const GActionEntry app_actions[] = {
  { "new-vm", casement_application_new_vm_action },
  { "open-vm", casement_application_open_vm_action, "s" },
  { "about", casement_application_about_action },
  { "preferences", casement_application_preferences_action },
  { "quit", casement_application_quit_action },
};

/* Preferences exist where the schema is installed; uninstalled runs and
 * tests may lack it, and get the defaults. The library lives in the
 * "vm-folder" preference, read once: windows and the tray share it. */
static void
casement_application_setup_library (CasementApplication *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(CasementVmStore) store = NULL;
  g_autofree char *folder = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);

  if (schema != NULL)
    {
      self->settings = g_settings_new_full (schema, NULL, NULL);
      folder = g_settings_get_string (self->settings, "vm-folder");
    }

  store = casement_vm_store_new (folder != NULL && folder[0] != '\0' ? folder : NULL);
  self->library = casement_library_new (store);
}

/* The tray follows the "show-tray" preference; without preferences, it
 * is shown. */
static void
casement_application_setup_tray (CasementApplication *self)
{
  self->tray = casement_tray_new (G_APPLICATION (self), self->library);

  if (self->settings == NULL)
    {
      casement_tray_set_visible (self->tray, TRUE);
      return;
    }

  g_settings_bind (self->settings, "show-tray", self->tray, "visible", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "shutdown-timeout", self->tray, "shutdown-timeout", G_SETTINGS_BIND_GET);
}

/* Before the bus connection goes: the tray takes its icon off the bus. */
static void
casement_application_shutdown (GApplication *app)
{
  CasementApplication *self = CASEMENT_APPLICATION (app);

  g_clear_object (&self->tray);
  g_clear_object (&self->settings);

  G_APPLICATION_CLASS (casement_application_parent_class)->shutdown (app);
}

static void
casement_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *new_accels[] = { "<Control>n", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  /* Before the first window: picks GTK's renderer for this machine's GPU. */
  casement_display_choose_renderer ();

  G_APPLICATION_CLASS (casement_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-vm", new_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", preferences_accels);

  casement_application_setup_library (CASEMENT_APPLICATION (app));
  casement_application_setup_tray (CASEMENT_APPLICATION (app));
}

/* "casement --new-vm" (the desktop file's action) and "--open-vm SLUG"
 * reach the running instance, if any, as actions. */
static int
casement_application_handle_local_options (GApplication *app,
                                           GVariantDict *options)
{
  g_autoptr(GError) error = NULL;
  const char *open_vm = NULL;
  gboolean new_vm = g_variant_dict_contains (options, "new-vm");

  g_variant_dict_lookup (options, "open-vm", "&s", &open_vm);
  if (!new_vm && open_vm == NULL)
    return -1;

  if (!g_application_register (app, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  if (new_vm)
    g_action_group_activate_action (G_ACTION_GROUP (app), "new-vm", NULL);
  if (open_vm != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (app), "open-vm", g_variant_new_string (open_vm));

  /* The first instance goes on to run; a second one is done. */
  return g_application_get_is_remote (app) ? 0 : -1;
}

static void
casement_application_dispose (GObject *object)
{
  CasementApplication *self = (CasementApplication *)object;

  g_clear_object (&self->library);

  G_OBJECT_CLASS (casement_application_parent_class)->dispose (object);
}

static void
casement_application_class_init (CasementApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = casement_application_dispose;
  app_class->activate = casement_application_activate;
  app_class->startup = casement_application_startup;
  app_class->shutdown = casement_application_shutdown;
  app_class->handle_local_options = casement_application_handle_local_options;
}

static void
casement_application_init (CasementApplication *self)
{
  g_application_add_main_option (G_APPLICATION (self), "new-vm", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_NONE, _("Create a new virtual machine"), NULL);
  g_application_add_main_option (G_APPLICATION (self), "open-vm", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_STRING, _("Open the window of a virtual machine"),
                                 _("NAME"));
}

CasementApplication *
casement_application_new (void)
{
  return g_object_new (CASEMENT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/casement/Casement",
                       NULL);
}

/* Returns: (transfer none) (nullable): the preferences of the running
 * CasementApplication; NULL when its settings schema is not installed, or
 * when the running application is another one (as in tests). */
GSettings *
casement_application_get_default_settings (void)
{
  GApplication *app = g_application_get_default ();

  if (!CASEMENT_IS_APPLICATION (app))
    return NULL;

  return CASEMENT_APPLICATION (app)->settings;
}
