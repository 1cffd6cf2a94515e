/* casement-wizard-create.c
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

#define G_LOG_DOMAIN "casement-wizard"

#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-wizard-private.h"

typedef enum
{
  STEP_PENDING,
  STEP_RUNNING,
  STEP_DONE,
  STEP_FAILED,
} StepState;

static const char * const step_titles[N_STEPS] = {
  [STEP_STORE] = N_("Creating the disk and the settings"),
  [STEP_FIRMWARE] = N_("Preparing the UEFI variables"),
  [STEP_TPM] = N_("Preparing the TPM state folder"),
  [STEP_ANSWER] = N_("Writing the answer medium"),
  [STEP_START] = N_("Starting the virtual machine"),
};

static const char * const step_state_names[] = {
  [STEP_PENDING] = "pending",
  [STEP_RUNNING] = "running",
  [STEP_DONE] = "done",
  [STEP_FAILED] = "failed",
};

static void casement_wizard_create_next (CasementWizard *self);

/* ---- Creation ----------------------------------------------------------- */

static gboolean
step_is_needed (CasementWizard *self,
                CreateStep      step)
{
  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->config != NULL);

  switch (step)
    {
    case STEP_TPM:
      return casement_vm_config_get_tpm (self->config);
    case STEP_ANSWER:
      return casement_vm_config_get_express_install (self->config);
    case STEP_STORE:
    case STEP_FIRMWARE:
    case STEP_START:
    case N_STEPS:
    default:
      return TRUE;
    }
}

static void
set_step_state (CasementWizard *self,
                CreateStep      step,
                StepState       state,
                const char     *detail)
{
  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (step < N_STEPS);

  gtk_stack_set_visible_child_name (self->step_icons[step], step_state_names[state]);
  adw_action_row_set_subtitle (self->step_rows[step], detail);

  if (state == STEP_RUNNING)
    {
      guint done = 0;
      guint total = 0;

      for (guint i = 0; i < N_STEPS; i++)
        {
          if (!step_is_needed (self, i))
            continue;
          total++;
          if (i < step)
            done++;
        }
      gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / total : 0);
    }
}

static void
casement_wizard_finish_failure (CasementWizard *self,
                                const char     *message,
                                gboolean        cleaned_up)
{
  g_autofree char *title = NULL;
  g_autofree char *text = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  self->state = CASEMENT_WIZARD_STATE_FAILED;
  g_clear_pointer (&self->slug, g_free);
  g_clear_object (&self->create_cancellable);

  title = g_strdup_printf (_("“%s” Was Not Created"), casement_vm_config_get_name (self->config));
  gtk_label_set_text (self->progress_title, title);
  if (cleaned_up)
    text = g_strdup_printf ("%s\n\n%s", message,
                            _("Nothing of it was kept: try again, or go back and change a setting."));
  _casement_wizard_set_message (self->progress_error, text != NULL ? text : message);
  gtk_widget_set_visible (self->progress_buttons, TRUE);
  gtk_widget_set_visible (self->retry_button, TRUE);
  gtk_widget_set_visible (self->progress_back_button, TRUE);
  gtk_widget_set_visible (self->open_button, FALSE);
  _casement_wizard_update (self);

  if (self->close_when_done)
    gtk_window_destroy (GTK_WINDOW (self));
}

typedef struct
{
  CasementVmStore *store;
  char            *slug;
  char            *message;  /* why creation failed */
} DeleteData;

static void
delete_data_free (gpointer data)
{
  DeleteData *delete = data;

  g_clear_object (&delete->store);
  g_free (delete->slug);
  g_free (delete->message);
  g_free (delete);
}

static void
delete_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  DeleteData *delete = task_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_store_delete (delete->store, delete->slug, FALSE, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
casement_wizard_deleted (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  CasementWizard *self = CASEMENT_WIZARD (object);
  DeleteData *delete = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *vm_dir = casement_vm_store_dup_vm_dir (delete->store, delete->slug);

      message = g_strdup_printf (_("%s\n\nThe unfinished virtual machine could not be removed (%s): "
                                   "delete the folder %s."),
                                 delete->message, error->message, vm_dir);
    }

  if (message != NULL)
    casement_wizard_finish_failure (self, message, FALSE);
  else
    casement_wizard_finish_failure (self, delete->message, TRUE);
}

/* A step after the store made the VM failed: the VM is removed again, so
 * that nothing half-made stays in the library. */
static void
casement_wizard_fail (CasementWizard *self,
                      const char     *message)
{
  g_autoptr(GTask) task = NULL;
  DeleteData *delete;

  g_assert (CASEMENT_IS_WIZARD (self));

  set_step_state (self, self->step, STEP_FAILED, NULL);

  /* The store leaves nothing behind when it fails itself. */
  if (self->slug == NULL)
    {
      casement_wizard_finish_failure (self, message, TRUE);
      return;
    }

  delete = g_new0 (DeleteData, 1);
  delete->store = g_object_ref (casement_library_get_store (self->library));
  delete->slug = g_strdup (self->slug);
  delete->message = g_strdup (message);

  /* Not cancellable: the clean-up must run even when a cancel caused it. */
  task = g_task_new (self, NULL, casement_wizard_deleted, NULL);
  g_task_set_source_tag (task, casement_wizard_fail);
  g_task_set_task_data (task, delete, delete_data_free);
  g_task_run_in_thread (task, delete_thread);
}

static void
casement_wizard_fail_with_error (CasementWizard *self,
                                 const char     *context,
                                 const GError   *error)
{
  g_autofree char *message = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    message = g_strdup (_("Creation was cancelled; nothing was kept."));
  else
    message = g_strdup_printf ("%s: %s", context, error->message);

  casement_wizard_fail (self, message);
}

static char *
casement_wizard_dup_vm_dir (CasementWizard *self)
{
  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->slug != NULL);

  return casement_vm_store_dup_vm_dir (casement_library_get_store (self->library), self->slug);
}

static void
casement_wizard_stored (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  slug = casement_vm_store_create_finish (CASEMENT_VM_STORE (object), result, &error);
  if (slug == NULL)
    {
      casement_wizard_fail_with_error (self, _("Cannot create the virtual machine"), error);
      return;
    }

  self->slug = g_steal_pointer (&slug);
  casement_wizard_create_next (self);
}

static void
casement_wizard_firmware_done (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (!casement_qemu_img_convert_finish (result, &error))
    {
      const char *template = casement_host_get_firmware_vars (self->host,
                                                              casement_vm_config_get_secure_boot (self->config));
      g_autofree char *context = g_strdup_printf (_("Cannot prepare the UEFI variables from %s "
                                                    "(reinstalling the ovmf package may help)"),
                                                  template);

      casement_wizard_fail_with_error (self, context, error);
      return;
    }

  casement_wizard_create_next (self);
}

static void
tpm_dir_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  const char *path = task_data;

  /* The TPM's secrets: private to the user, as swtpm expects. */
  if (g_mkdir (path, 0700) != 0 && errno != EEXIST)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               _("Cannot create the folder %s: %s"), path, g_strerror (errsv));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
casement_wizard_tpm_done (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  CasementWizard *self = CASEMENT_WIZARD (object);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      casement_wizard_fail_with_error (self, _("Cannot prepare the TPM state"), error);
      return;
    }

  casement_wizard_create_next (self);
}

static void
save_config_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  CasementWizard *self = source_object;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_store_save (casement_library_get_store (self->library), self->slug, self->config, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
casement_wizard_answer_saved (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  CasementWizard *self = CASEMENT_WIZARD (object);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      casement_wizard_fail_with_error (self, _("Cannot save the settings"), error);
      return;
    }

  casement_wizard_create_next (self);
}

static void
casement_wizard_answer_written (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GFile) medium = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (!(medium = casement_unattend_write_medium_finish (result, &error)))
    {
      casement_wizard_fail_with_error (self, _("Cannot write the answer medium"), error);
      return;
    }

  /* The medium is in the VM folder already; the settings now name it. The
   * store only reads the config while the wizard leaves it alone. */
  casement_vm_config_set_unattend_media (self->config, CASEMENT_UNATTEND_MEDIUM_NAME);

  task = g_task_new (self, self->create_cancellable, casement_wizard_answer_saved, NULL);
  g_task_set_source_tag (task, casement_wizard_answer_written);
  g_task_run_in_thread (task, save_config_thread);
}

static void
casement_wizard_write_answer (CasementWizard *self,
                              const char     *vm_dir)
{
  g_autoptr(GFile) dir = g_file_new_for_path (vm_dir);
  g_autoptr(GFile) winfsp = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (!(xml = _casement_wizard_build_answers (self, self->config, &error)))
    {
      casement_wizard_fail_with_error (self, _("Cannot write the answer medium"), error);
      return;
    }

  if (casement_vm_config_get_winfsp_installer (self->config) != NULL)
    winfsp = g_file_new_for_path (casement_vm_config_get_winfsp_installer (self->config));

  casement_unattend_write_medium_async (xml, winfsp, dir, self->create_cancellable,
                                        casement_wizard_answer_written, g_object_ref (self));
}

static void
casement_wizard_started (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (!casement_vm_start_finish (CASEMENT_VM (object), result, &error))
    {
      set_step_state (self, STEP_START, STEP_FAILED, NULL);
      message = g_strdup_printf (_("“%s” was created, but did not start: %s"),
                                 casement_vm_config_get_name (self->config), error->message);
      self->state = CASEMENT_WIZARD_STATE_START_FAILED;
      _casement_wizard_set_message (self->progress_error, message);
      gtk_widget_set_visible (self->progress_buttons, TRUE);
      gtk_widget_set_visible (self->progress_back_button, FALSE);
      gtk_widget_set_visible (self->open_button, TRUE);
      gtk_widget_set_visible (self->retry_button, TRUE);
      _casement_wizard_update (self);
      return;
    }

  set_step_state (self, STEP_START, STEP_DONE, NULL);
  gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
  self->state = CASEMENT_WIZARD_STATE_DONE;
  _casement_wizard_update (self);

  gtk_widget_activate_action (GTK_WIDGET (self), "app.open-vm", "s", self->slug);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
casement_wizard_start (CasementWizard *self)
{
  CasementVm *vm;

  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->slug != NULL);

  if (!(vm = casement_library_lookup (self->library, self->slug)))
    {
      g_autoptr(GError) error = g_error_new (CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND,
                                             _("The library does not list it"));

      self->state = CASEMENT_WIZARD_STATE_START_FAILED;
      set_step_state (self, STEP_START, STEP_FAILED, error->message);
      _casement_wizard_update (self);
      return;
    }

  /* Not cancellable: closing the wizard now must not stop the new VM. */
  casement_vm_start_async (vm, self->host, NULL, casement_wizard_started, g_object_ref (self));
}

static void
casement_wizard_reloaded (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(CasementWizard) self = user_data;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));

  if (!casement_library_reload_finish (CASEMENT_LIBRARY (object), result, &error))
    g_warning ("Cannot list the virtual machines: %s", error->message);

  casement_wizard_start (self);
}

/* Runs the next step of Create, or starts the VM after the last. */
static void
casement_wizard_create_next (CasementWizard *self)
{
  g_autofree char *vm_dir = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->state == CASEMENT_WIZARD_STATE_CREATING);

  set_step_state (self, self->step, STEP_DONE, NULL);

  /* Steps this VM has no need of stay hidden and are passed over. */
  do
    self->step++;
  while (self->step < N_STEPS && !step_is_needed (self, self->step));

  g_assert (self->step < N_STEPS);

  vm_dir = casement_wizard_dup_vm_dir (self);
  set_step_state (self, self->step, STEP_RUNNING, NULL);

  switch (self->step)
    {
    case STEP_FIRMWARE:
      {
        const char *template = casement_host_get_firmware_vars (self->host,
                                                                casement_vm_config_get_secure_boot (self->config));
        g_autofree char *dest_path = g_build_filename (vm_dir, CASEMENT_VM_EFIVARS_FILE, NULL);
        g_autoptr(GFile) source = NULL;
        g_autoptr(GFile) dest = NULL;

        if (template == NULL)
          {
            casement_wizard_fail (self, _("No UEFI variable store template (OVMF_VARS) was found: "
                                          "install the ovmf package"));
            return;
          }

        source = g_file_new_for_path (template);
        dest = g_file_new_for_path (dest_path);
        casement_qemu_img_convert_async (source, "raw", dest, self->create_cancellable,
                                         casement_wizard_firmware_done, g_object_ref (self));
      }
      break;

    case STEP_TPM:
      {
        g_autoptr(GTask) task = g_task_new (self, self->create_cancellable, casement_wizard_tpm_done, NULL);

        g_task_set_source_tag (task, casement_wizard_create_next);
        g_task_set_task_data (task, g_build_filename (vm_dir, CASEMENT_VM_TPM_DIR, NULL), g_free);
        g_task_run_in_thread (task, tpm_dir_thread);
      }
      break;

    case STEP_ANSWER:
      casement_wizard_write_answer (self, vm_dir);
      break;

    case STEP_START:
      self->state = CASEMENT_WIZARD_STATE_STARTING;
      g_clear_object (&self->create_cancellable);
      _casement_wizard_update (self);
      casement_library_reload_async (self->library, NULL, casement_wizard_reloaded, g_object_ref (self));
      break;

    case STEP_STORE:
    case N_STEPS:
    default:
      g_assert_not_reached ();
    }
}

void
_casement_wizard_create (CasementWizard *self)
{
  g_autofree char *title = NULL;

  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->state == CASEMENT_WIZARD_STATE_EDITING || self->state == CASEMENT_WIZARD_STATE_FAILED);

  g_clear_object (&self->config);
  self->config = _casement_wizard_build_config (self);
  self->state = CASEMENT_WIZARD_STATE_CREATING;
  self->step = STEP_STORE;
  g_clear_object (&self->create_cancellable);
  self->create_cancellable = g_cancellable_new ();

  title = g_strdup_printf (_("Creating “%s”"), casement_vm_config_get_name (self->config));
  gtk_label_set_text (self->progress_title, title);
  _casement_wizard_set_message (self->progress_error, NULL);
  gtk_widget_set_visible (self->progress_buttons, FALSE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);

  for (guint i = 0; i < N_STEPS; i++)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->step_rows[i]), step_is_needed (self, i));
      set_step_state (self, i, STEP_PENDING, NULL);
    }
  set_step_state (self, STEP_STORE, STEP_RUNNING, NULL);

  _casement_wizard_set_page (self, CASEMENT_WIZARD_PAGE_PROGRESS);

  casement_vm_store_create_async (casement_library_get_store (self->library), self->config,
                                  self->create_cancellable, casement_wizard_stored, g_object_ref (self));
}

void
_casement_wizard_retry_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  CasementWizard *self = CASEMENT_WIZARD (widget);

  g_assert (CASEMENT_IS_WIZARD (self));

  if (self->state == CASEMENT_WIZARD_STATE_FAILED)
    {
      _casement_wizard_create (self);
    }
  else if (self->state == CASEMENT_WIZARD_STATE_START_FAILED)
    {
      self->state = CASEMENT_WIZARD_STATE_STARTING;
      _casement_wizard_set_message (self->progress_error, NULL);
      gtk_widget_set_visible (self->progress_buttons, FALSE);
      set_step_state (self, STEP_START, STEP_RUNNING, NULL);
      _casement_wizard_update (self);
      casement_wizard_start (self);
    }
}

void
_casement_wizard_open_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  CasementWizard *self = CASEMENT_WIZARD (widget);

  g_assert (CASEMENT_IS_WIZARD (self));
  g_assert (self->slug != NULL);

  gtk_widget_activate_action (widget, "app.open-vm", "s", self->slug);
  gtk_window_destroy (GTK_WINDOW (self));
}


void
_casement_wizard_setup_steps (CasementWizard *self)
{
  g_assert (CASEMENT_IS_WIZARD (self));

  for (guint i = 0; i < N_STEPS; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icons = gtk_stack_new ();
      GtkWidget *spinner = gtk_spinner_new ();
      GtkWidget *image;

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(step_titles[i]));

      image = gtk_image_new_from_icon_name ("content-loading-symbolic");
      gtk_widget_add_css_class (image, "dim-label");
      gtk_stack_add_named (GTK_STACK (icons), image, step_state_names[STEP_PENDING]);
      gtk_spinner_start (GTK_SPINNER (spinner));
      gtk_stack_add_named (GTK_STACK (icons), spinner, step_state_names[STEP_RUNNING]);
      image = gtk_image_new_from_icon_name ("object-select-symbolic");
      gtk_widget_add_css_class (image, "success");
      gtk_stack_add_named (GTK_STACK (icons), image, step_state_names[STEP_DONE]);
      image = gtk_image_new_from_icon_name ("dialog-error-symbolic");
      gtk_widget_add_css_class (image, "error");
      gtk_stack_add_named (GTK_STACK (icons), image, step_state_names[STEP_FAILED]);

      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icons);
      gtk_list_box_append (self->step_list, row);
      self->step_rows[i] = ADW_ACTION_ROW (row);
      self->step_icons[i] = GTK_STACK (icons);
    }
}
