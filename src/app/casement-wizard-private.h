/* casement-wizard-private.h
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

#include "casement-media.h"
#include "casement-unattend.h"
#include "casement-wizard.h"

G_BEGIN_DECLS

#define GIB (G_GUINT64_CONSTANT (1) << 30)
#define MIB (G_GUINT64_CONSTANT (1) << 20)

/* The pages before the progress page, counted in the title. */
#define N_EDIT_PAGES (CASEMENT_WIZARD_PAGE_SUMMARY + 1)

/* What Create does, in order; each is a row on the progress page. */
typedef enum
{
  STEP_STORE = 0,  /* folder, disk (qemu-img) and vm.json, through the store */
  STEP_FIRMWARE,   /* the VM's own copy of the UEFI variables */
  STEP_TPM,        /* swtpm's state folder */
  STEP_ANSWER,     /* the answer-file medium of the express install */
  STEP_START,      /* QEMU */
  N_STEPS
} CreateStep;

struct _CasementWizard
{
  AdwWindow              parent_instance;

  /* Template widgets */
  GtkWidget             *account_group;
  GtkWidget             *back_button;
  GtkWidget             *cancel_button;
  GtkWidget             *confirm_icon;
  AdwEntryRow           *confirm_row;
  GtkWidget             *computer_icon;
  AdwEntryRow           *computer_row;
  AdwActionRow          *cpus_row;
  GtkSpinButton         *cpus_spin;
  GtkWidget             *disk_icon;
  GtkLabel              *disk_note;
  AdwEntryRow           *disk_row;
  GtkWidget             *drivers_details;
  GtkLabel              *drivers_error;
  AdwActionRow          *drivers_found_row;
  AdwActionRow          *drivers_missing_row;
  GtkLabel              *drivers_note;
  GtkWidget             *drivers_choose_button;
  AdwActionRow          *drivers_row;
  GtkSpinner            *drivers_spinner;
  AdwActionRow          *drivers_tools_row;
  AdwActionRow          *drivers_version_row;
  GtkSwitch             *express_switch;
  AdwActionRow          *install_arch_row;
  GtkWidget             *install_choose_button;
  GtkWidget             *install_details;
  AdwActionRow          *install_edition_row;
  GtkLabel              *install_error;
  AdwComboRow           *install_image_row;
  AdwActionRow          *install_name_row;
  AdwActionRow          *install_needs_row;
  AdwActionRow          *install_row;
  GtkSpinner            *install_spinner;
  AdwActionRow          *install_version_row;
  GtkLabel              *install_warning;
  GtkWidget             *key_group;
  AdwComboRow           *keyboard_row;
  AdwComboRow           *language_row;
  GtkWidget             *locale_group;
  GtkLabel              *manual_label;
  GtkWidget             *memory_icon;
  AdwEntryRow           *memory_row;
  GtkWidget             *name_icon;
  AdwEntryRow           *name_row;
  GtkWidget             *nav_bar;
  GtkWidget             *next_button;
  GtkLabel              *next_reason;
  GtkWidget             *open_button;
  AdwEntryRow           *password_row;
  GtkWidget             *product_key_icon;
  AdwEntryRow           *product_key_row;
  GtkProgressBar        *progress_bar;
  GtkWidget             *progress_back_button;
  GtkWidget             *progress_buttons;
  GtkLabel              *progress_error;
  GtkLabel              *progress_title;
  GtkLabel              *resources_note;
  GtkWidget             *retry_button;
  GtkWidget             *share_clear_button;
  GtkLabel              *share_error;
  GtkLabel              *share_method_label;
  GtkWidget             *share_read_only_row;
  GtkSwitch             *share_read_only_switch;
  AdwActionRow          *share_row;
  GtkStack              *stack;
  GtkListBox            *step_list;
  AdwActionRow          *summary_disk_row;
  AdwActionRow          *summary_drivers_row;
  GtkLabel              *summary_error;
  GtkLabel              *summary_host;
  AdwActionRow          *summary_install_row;
  AdwActionRow          *summary_name_row;
  AdwActionRow          *summary_resources_row;
  AdwActionRow          *summary_security_row;
  AdwActionRow          *summary_share_row;
  AdwActionRow          *summary_windows_row;
  GtkWidget             *user_icon;
  AdwEntryRow           *user_row;
  GtkWidget             *winfsp_group;
  GtkLabel              *winfsp_note;
  AdwActionRow          *winfsp_row;
  AdwWindowTitle        *window_title;

  /* Progress rows, made in code */
  AdwActionRow          *step_rows[N_STEPS];
  GtkStack              *step_icons[N_STEPS];

  /* Owned references */
  CasementLibrary       *library;
  CasementHost          *host;
  GCancellable          *cancellable;          /* cancelled when the window goes */
  GCancellable          *install_cancellable;
  GCancellable          *drivers_cancellable;
  GCancellable          *name_cancellable;
  GCancellable          *share_cancellable;
  GCancellable          *create_cancellable;
  GCancellable          *winfsp_cancellable;
  GSettings             *settings;             /* NULL where the schema is not installed */
  GtkFileChooserNative  *chooser;
  GFile                 *install_file;
  CasementInstallMedia  *install_media;
  char                  *install_problem;
  GFile                 *drivers_file;
  CasementDriverMedia   *drivers_media;
  char                  *drivers_problem;
  GFile                 *share_folder;
  char                  *share_problem;
  GFile                 *winfsp_installer;     /* chosen now, or remembered from before */
  char                  *winfsp_problem;
  char                  *name_checked;         /* the name name_taken is the answer for */
  char                  *host_problem;
  char                  *space_path;           /* where free_space was measured */
  CasementVmConfig      *config;               /* what Create makes */
  char                  *slug;
  char                  *blocker;
  char                  *host_language;        /* when the language table lacks it */

  /* Borrowed references */
  GtkWindow             *confirm_dialog;

  guint64                free_space;
  CasementWizardPage     page;
  CasementWizardState    state;
  CreateStep             step;

  guint                  probing_host : 1;
  guint                  detecting_install : 1;
  guint                  checking_drivers : 1;
  guint                  checking_name : 1;
  guint                  checking_space : 1;
  guint                  checking_share : 1;
  guint                  checking_winfsp : 1;
  guint                  winfsp_chosen : 1;     /* in this wizard, not remembered */
  guint                  name_taken : 1;
  guint                  free_space_known : 1;
  guint                  setting_defaults : 1;
  guint                  name_edited : 1;
  guint                  cpus_edited : 1;
  guint                  memory_edited : 1;
  guint                  disk_edited : 1;
  guint                  computer_edited : 1;
  guint                  close_when_done : 1;
  guint                  disposed : 1;
};

/* casement-wizard-checks.c: the background checks, the defaults, and
 * what each page shows and lacks. */
void               _casement_wizard_set_message          (GtkLabel                *label,
                                                          const char              *text);
const char        *_casement_wizard_get_text             (gpointer                 editable);
/* Sets a field's text without marking it as the user's choice. */
void               _casement_wizard_set_default_text     (CasementWizard          *self,
                                                          gpointer                 editable,
                                                          const char              *text);
void               _casement_wizard_setup_locale         (CasementWizard          *self);
void               _casement_wizard_probe_cb             (GObject                 *object,
                                                          GAsyncResult            *result,
                                                          gpointer                 user_data);
void               _casement_wizard_check_free_space     (CasementWizard          *self);
void               _casement_wizard_name_changed         (CasementWizard          *self);
void               _casement_wizard_apply_defaults       (CasementWizard          *self);
void               _casement_wizard_show_install_media   (CasementWizard          *self);
void               _casement_wizard_install_detected     (GObject                 *object,
                                                          GAsyncResult            *result,
                                                          gpointer                 user_data);
void               _casement_wizard_check_drivers        (CasementWizard          *self);
void               _casement_wizard_show_share           (CasementWizard          *self);
void               _casement_wizard_share_checked        (GObject                 *object,
                                                          GAsyncResult            *result,
                                                          gpointer                 user_data);
void               _casement_wizard_winfsp_checked       (GObject                 *object,
                                                          GAsyncResult            *result,
                                                          gpointer                 user_data);
CasementVmConfig  *_casement_wizard_build_config         (CasementWizard          *self);
char              *_casement_wizard_build_answers        (CasementWizard          *self,
                                                          CasementVmConfig        *config,
                                                          GError                 **error);
void               _casement_wizard_update               (CasementWizard          *self);

/* casement-wizard.c */
void               _casement_wizard_set_page             (CasementWizard          *self,
                                                          CasementWizardPage       page);
void               _casement_wizard_refocus              (CasementWizard          *self);

/* casement-wizard-create.c: Create, and the start after it. */
void               _casement_wizard_setup_steps          (CasementWizard          *self);
void               _casement_wizard_create               (CasementWizard          *self);
void               _casement_wizard_retry_action         (GtkWidget               *widget,
                                                          const char              *action_name,
                                                          GVariant                *param);
void               _casement_wizard_open_action          (GtkWidget               *widget,
                                                          const char              *action_name,
                                                          GVariant                *param);

G_END_DECLS
