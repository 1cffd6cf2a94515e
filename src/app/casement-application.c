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
#include "casement-window.h"

struct _CasementApplication
{
  AdwApplication   parent_instance;

  CasementVmStore *store;
};

G_DEFINE_FINAL_TYPE (CasementApplication, casement_application, ADW_TYPE_APPLICATION)

static void
casement_application_activate (GApplication *app)
{
  CasementApplication *self = CASEMENT_APPLICATION (app);
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    window = GTK_WINDOW (casement_window_new (ADW_APPLICATION (app), self->store));

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

  g_application_activate (G_APPLICATION (self));
  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  /* Until the wizard lands, point to the way that works today. */
  if (CASEMENT_IS_WINDOW (window))
    casement_window_add_toast (CASEMENT_WINDOW (window),
                               adw_toast_new (_("The wizard is not here yet: create a virtual machine with “casementctl create”")));
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
casement_application_quit_action (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "new-vm", casement_application_new_vm_action },
  { "about", casement_application_about_action },
  { "quit", casement_application_quit_action },
};

static void
casement_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *new_accels[] = { "<Control>n", NULL };

  G_APPLICATION_CLASS (casement_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-vm", new_accels);
}

static void
casement_application_dispose (GObject *object)
{
  CasementApplication *self = (CasementApplication *)object;

  g_clear_object (&self->store);

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
}

static void
casement_application_init (CasementApplication *self)
{
  self->store = casement_vm_store_new (NULL);
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
