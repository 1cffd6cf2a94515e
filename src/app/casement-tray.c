/* casement-tray.c
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

#define G_LOG_DOMAIN "casement-tray"

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <unistd.h>

#include "casement-qemu-command.h"
#include "casement-tray.h"
#include "casement-vm-row.h"
#include "casement-vm-window.h"

#define ITEM_PATH          "/StatusNotifierItem"
#define ITEM_INTERFACE     "org.kde.StatusNotifierItem"
#define MENU_PATH          "/MenuBar"
#define MENU_INTERFACE     "com.canonical.dbusmenu"
#define WATCHER_NAME       "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH       "/StatusNotifierWatcher"
#define WATCHER_INTERFACE  "org.kde.StatusNotifierWatcher"
#define ICON_NAME          APP_ID "-symbolic"
#define BACKGROUND_ID      "background"

/* The spec's types (freedesktop StatusNotifierItem), not the a(iiay)-less
 * variant some old implementations use. */
static const char item_xml[] =
  "<node>"
  "  <interface name='org.kde.StatusNotifierItem'>"
  "    <property name='Category' type='s' access='read'/>"
  "    <property name='Id' type='s' access='read'/>"
  "    <property name='Title' type='s' access='read'/>"
  "    <property name='Status' type='s' access='read'/>"
  "    <property name='WindowId' type='i' access='read'/>"
  "    <property name='IconName' type='s' access='read'/>"
  "    <property name='IconThemePath' type='s' access='read'/>"
  "    <property name='IconPixmap' type='a(iiay)' access='read'/>"
  "    <property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
  "    <property name='ItemIsMenu' type='b' access='read'/>"
  "    <property name='Menu' type='o' access='read'/>"
  "    <method name='Activate'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='SecondaryActivate'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='ContextMenu'>"
  "      <arg name='x' type='i' direction='in'/>"
  "      <arg name='y' type='i' direction='in'/>"
  "    </method>"
  "    <method name='Scroll'>"
  "      <arg name='delta' type='i' direction='in'/>"
  "      <arg name='orientation' type='s' direction='in'/>"
  "    </method>"
  "    <signal name='NewTitle'/>"
  "    <signal name='NewIcon'/>"
  "    <signal name='NewToolTip'/>"
  "    <signal name='NewStatus'>"
  "      <arg name='status' type='s'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

static const char menu_xml[] =
  "<node>"
  "  <interface name='com.canonical.dbusmenu'>"
  "    <property name='Version' type='u' access='read'/>"
  "    <property name='TextDirection' type='s' access='read'/>"
  "    <property name='Status' type='s' access='read'/>"
  "    <property name='IconThemePath' type='as' access='read'/>"
  "    <method name='GetLayout'>"
  "      <arg name='parentId' type='i' direction='in'/>"
  "      <arg name='recursionDepth' type='i' direction='in'/>"
  "      <arg name='propertyNames' type='as' direction='in'/>"
  "      <arg name='revision' type='u' direction='out'/>"
  "      <arg name='layout' type='(ia{sv}av)' direction='out'/>"
  "    </method>"
  "    <method name='GetGroupProperties'>"
  "      <arg name='ids' type='ai' direction='in'/>"
  "      <arg name='propertyNames' type='as' direction='in'/>"
  "      <arg name='properties' type='a(ia{sv})' direction='out'/>"
  "    </method>"
  "    <method name='GetProperty'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='name' type='s' direction='in'/>"
  "      <arg name='value' type='v' direction='out'/>"
  "    </method>"
  "    <method name='Event'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='eventId' type='s' direction='in'/>"
  "      <arg name='data' type='v' direction='in'/>"
  "      <arg name='timestamp' type='u' direction='in'/>"
  "    </method>"
  "    <method name='EventGroup'>"
  "      <arg name='events' type='a(isvu)' direction='in'/>"
  "      <arg name='idErrors' type='ai' direction='out'/>"
  "    </method>"
  "    <method name='AboutToShow'>"
  "      <arg name='id' type='i' direction='in'/>"
  "      <arg name='needUpdate' type='b' direction='out'/>"
  "    </method>"
  "    <method name='AboutToShowGroup'>"
  "      <arg name='ids' type='ai' direction='in'/>"
  "      <arg name='updatesNeeded' type='ai' direction='out'/>"
  "      <arg name='idErrors' type='ai' direction='out'/>"
  "    </method>"
  "    <signal name='ItemsPropertiesUpdated'>"
  "      <arg name='updatedProps' type='a(ia{sv})'/>"
  "      <arg name='removedProps' type='a(ias)'/>"
  "    </signal>"
  "    <signal name='LayoutUpdated'>"
  "      <arg name='revision' type='u'/>"
  "      <arg name='parent' type='i'/>"
  "    </signal>"
  "    <signal name='ItemActivationRequested'>"
  "      <arg name='id' type='i'/>"
  "      <arg name='timestamp' type='u'/>"
  "    </signal>"
  "  </interface>"
  "</node>";

/* Menu item ids. The fixed items come first; each VM then owns a block of
 * VM_ID_STRIDE ids from MENU_VM_BASE on, by an index it keeps for the
 * tray's whole life, so that an id a host still holds never points at
 * another VM. */
enum
{
  MENU_ROOT = 0,
  MENU_SEPARATOR_VMS,
  MENU_NEW_VM,
  MENU_SHOW,
  MENU_SEPARATOR_QUIT,
  MENU_QUIT,
  MENU_VM_BASE = 100,
};

typedef enum
{
  VM_ITEM_SUBMENU = 0,
  VM_ITEM_START,
  VM_ITEM_OPEN,
  VM_ITEM_SHUT_DOWN,
  VM_ITEM_FORCE_OFF,
  N_VM_ITEMS,
} VmItem;

#define VM_ID_STRIDE 10

G_STATIC_ASSERT (N_VM_ITEMS <= VM_ID_STRIDE);

typedef struct
{
  CasementVm      *vm;
  guint            index;
  CasementVmState  state;       /* as last seen: tells which transition happened */
} TrayVm;

struct _CasementTray
{
  GObject            parent_instance;

  /* Owned references */
  CasementLibrary   *library;
  GDBusConnection   *connection;
  GCancellable      *cancellable;      /* the pending call to the watcher */
  GPtrArray         *vms;              /* TrayVm, in the library's order */
  GHashTable        *indexes;          /* slug → GUINT_TO_POINTER (index), never reused */
  char              *bus_name;
  char              *background_key;   /* the VMs the background notification names */

  /* Borrowed references */
  GApplication      *application;      /* weak: the application owns the tray */

  CasementTrayState  state;
  guint              shutdown_timeout;
  guint              next_index;
  guint              revision;
  guint              n_active;         /* as last announced in Status and ToolTip */
  guint              item_id;
  guint              menu_id;
  guint              own_id;
  guint              watch_id;
  guint              watcher_signal_id;

  guint              visible : 1;
  guint              name_acquired : 1;
  guint              watcher_present : 1;
  guint              host_registered : 1;
  guint              has_host : 1;
  guint              holding : 1;
};

G_DEFINE_FINAL_TYPE (CasementTray, casement_tray, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (CasementTrayState, casement_tray_state,
                    G_DEFINE_ENUM_VALUE (CASEMENT_TRAY_STATE_HIDDEN, "hidden"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_TRAY_STATE_WAITING, "waiting"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_TRAY_STATE_REGISTERING, "registering"),
                    G_DEFINE_ENUM_VALUE (CASEMENT_TRAY_STATE_REGISTERED, "registered"))

enum {
  PROP_0,
  PROP_APPLICATION,
  PROP_LIBRARY,
  PROP_VISIBLE,
  PROP_SHUTDOWN_TIMEOUT,
  PROP_STATE,
  PROP_HAS_HOST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GDBusNodeInfo *item_info;
static GDBusNodeInfo *menu_info;

/* ------------------------------------------------------------------ */
/* VMs                                                                 */
/* ------------------------------------------------------------------ */

static void
tray_vm_free (TrayVm *tray_vm)
{
  g_clear_object (&tray_vm->vm);
  g_free (tray_vm);
}

static gboolean
vm_state_is_active (CasementVmState state)
{
  switch (state)
    {
    case CASEMENT_VM_STATE_STARTING:
    case CASEMENT_VM_STATE_RUNNING:
    case CASEMENT_VM_STATE_PAUSED:
    case CASEMENT_VM_STATE_STOPPING:
      return TRUE;

    case CASEMENT_VM_STATE_STOPPED:
    case CASEMENT_VM_STATE_CRASHED:
    default:
      return FALSE;
    }
}

/* A state the guest was really up in: leaving it is news, unlike a start
 * that failed (its error is reported by whoever started it). */
static gboolean
vm_state_was_up (CasementVmState state)
{
  return state == CASEMENT_VM_STATE_RUNNING ||
         state == CASEMENT_VM_STATE_PAUSED ||
         state == CASEMENT_VM_STATE_STOPPING;
}

static TrayVm *
casement_tray_find_vm (CasementTray *self,
                       CasementVm   *vm)
{
  g_assert (CASEMENT_IS_TRAY (self));

  for (guint i = 0; i < self->vms->len; i++)
    {
      TrayVm *tray_vm = g_ptr_array_index (self->vms, i);

      if (tray_vm->vm == vm)
        return tray_vm;
    }

  return NULL;
}

/* Whether a window of @vm is on screen: then it tells the user itself
 * what happens to the VM, and a notification would say it twice. */
static gboolean
casement_tray_vm_has_window (CasementTray *self,
                             CasementVm   *vm)
{
  g_assert (CASEMENT_IS_TRAY (self));

  if (!GTK_IS_APPLICATION (self->application))
    return FALSE;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self->application)); l; l = l->next)
    {
      if (CASEMENT_IS_VM_WINDOW (l->data) &&
          gtk_widget_get_visible (l->data) &&
          g_strcmp0 (casement_vm_get_slug (casement_vm_window_get_vm (l->data)),
                     casement_vm_get_slug (vm)) == 0)
        return TRUE;
    }

  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

static GNotification *
notification_new (const char            *title,
                  const char            *body,
                  GNotificationPriority  priority)
{
  g_autoptr(GIcon) icon = g_themed_icon_new (APP_ID);
  GNotification *notification = g_notification_new (title);

  if (body != NULL)
    g_notification_set_body (notification, body);
  g_notification_set_icon (notification, icon);
  g_notification_set_priority (notification, priority);

  return notification;
}

/* Without a session bus there is no one to tell, and GLib's notification
 * backends take one for granted. */
static gboolean
casement_tray_can_notify (CasementTray *self)
{
  return self->application != NULL && g_application_get_dbus_connection (self->application) != NULL;
}

/* One notification per VM at a time: news about a VM replaces older news
 * about it. */
static void
casement_tray_send_vm_notification (CasementTray  *self,
                                    CasementVm    *vm,
                                    GNotification *notification)
{
  g_autofree char *id = NULL;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!casement_tray_can_notify (self))
    return;

  id = g_strconcat ("vm-", casement_vm_get_slug (vm), NULL);
  g_application_send_notification (self->application, id, notification);
}

static void
casement_tray_withdraw_vm_notification (CasementTray *self,
                                        CasementVm   *vm)
{
  g_autofree char *id = NULL;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!casement_tray_can_notify (self))
    return;

  id = g_strconcat ("vm-", casement_vm_get_slug (vm), NULL);
  g_application_withdraw_notification (self->application, id);
}

static void
casement_tray_notify_error (CasementTray *self,
                            CasementVm   *vm,
                            const char   *title,
                            const GError *error)
{
  g_autoptr(GNotification) notification = NULL;

  g_assert (CASEMENT_IS_TRAY (self));

  notification = notification_new (title, error->message, G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_default_action_and_target (notification, "app.open-vm",
                                                "s", casement_vm_get_slug (vm));
  casement_tray_send_vm_notification (self, vm, notification);
}

/* Without a visible tray icon, a VM that runs while no window is open is
 * easy to forget: a notification says so and offers the way back. */
static void
casement_tray_update_background (CasementTray *self)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GString) key = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  g_autoptr(GPtrArray) running = NULL;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!casement_tray_can_notify (self))
    return;

  running = g_ptr_array_new ();
  if (GTK_IS_APPLICATION (self->application) &&
      gtk_application_get_windows (GTK_APPLICATION (self->application)) == NULL &&
      !self->has_host)
    {
      for (guint i = 0; i < self->vms->len; i++)
        {
          TrayVm *tray_vm = g_ptr_array_index (self->vms, i);

          if (vm_state_is_active (casement_vm_get_state (tray_vm->vm)))
            g_ptr_array_add (running, tray_vm->vm);
        }
    }

  if (running->len == 0)
    {
      if (self->background_key != NULL)
        {
          g_application_withdraw_notification (self->application, BACKGROUND_ID);
          g_clear_pointer (&self->background_key, g_free);
        }
      return;
    }

  /* Sent again only when the set of VMs changes: each send may pop up. */
  key = g_string_new (NULL);
  for (guint i = 0; i < running->len; i++)
    g_string_append_printf (key, "%s\n", casement_vm_get_slug (g_ptr_array_index (running, i)));
  if (g_strcmp0 (key->str, self->background_key) == 0)
    return;
  g_free (self->background_key);
  self->background_key = g_strdup (key->str);

  if (running->len == 1)
    /* Translators: %s is the name of a virtual machine */
    title = g_strdup_printf (_("“%s” keeps running in the background"),
                             casement_vm_get_display_name (g_ptr_array_index (running, 0)));
  else
    title = g_strdup_printf (ngettext ("%u virtual machine keeps running in the background",
                                       "%u virtual machines keep running in the background",
                                       running->len),
                             running->len);

  /* Two whole sentences, each translated on its own. */
  body = g_strdup_printf ("%s %s",
                          self->visible ? _("This desktop shows no tray icons.")
                                        : _("The tray icon is turned off."),
                          ngettext ("Open Casement again to see or stop it.",
                                    "Open Casement again to see or stop them.",
                                    running->len));
  notification = notification_new (title, body, G_NOTIFICATION_PRIORITY_NORMAL);
  g_notification_add_button (notification, _("Show Casement"), "app.show-library");

  for (guint i = 0; i < running->len; i++)
    {
      CasementVm *vm = g_ptr_array_index (running, i);
      g_autofree char *label = NULL;

      if (running->len == 1)
        label = g_strdup (_("Shut Down"));
      else
        /* Translators: a button; %s is the name of a virtual machine */
        label = g_strdup_printf (_("Shut Down “%s”"), casement_vm_get_display_name (vm));

      g_notification_add_button_with_target (notification, label, "app.shut-down-vm",
                                             "s", casement_vm_get_slug (vm));
    }

  g_application_send_notification (self->application, BACKGROUND_ID, notification);
}

static void
casement_tray_notify_transition (CasementTray    *self,
                                 CasementVm      *vm,
                                 CasementVmState  old_state,
                                 CasementVmState  new_state)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  const char *body;

  g_assert (CASEMENT_IS_TRAY (self));

  if (new_state == CASEMENT_VM_STATE_STARTING)
    {
      /* Old news about this VM no longer holds. */
      casement_tray_withdraw_vm_notification (self, vm);
      return;
    }

  if (!vm_state_was_up (old_state) || casement_tray_vm_has_window (self, vm))
    return;

  switch (new_state)
    {
    case CASEMENT_VM_STATE_STOPPED:
      /* Translators: %s is the name of a virtual machine */
      title = g_strdup_printf (_("“%s” stopped"), casement_vm_get_display_name (vm));
      notification = notification_new (title, _("The virtual machine is off."),
                                       G_NOTIFICATION_PRIORITY_NORMAL);
      break;

    case CASEMENT_VM_STATE_CRASHED:
      if (!(body = casement_vm_get_last_error (vm)))
        body = _("QEMU ended without shutting the guest down. Its disk is kept; the log may tell why.");
      /* Translators: %s is the name of a virtual machine */
      title = g_strdup_printf (_("“%s” crashed"), casement_vm_get_display_name (vm));
      notification = notification_new (title, body, G_NOTIFICATION_PRIORITY_HIGH);
      g_notification_add_button_with_target (notification, _("Show Log"), "app.show-vm-log",
                                             "s", casement_vm_get_slug (vm));
      break;

    case CASEMENT_VM_STATE_STARTING:
    case CASEMENT_VM_STATE_RUNNING:
    case CASEMENT_VM_STATE_PAUSED:
    case CASEMENT_VM_STATE_STOPPING:
    default:
      return;
    }

  g_notification_set_default_action_and_target (notification, "app.open-vm",
                                                "s", casement_vm_get_slug (vm));
  casement_tray_send_vm_notification (self, vm, notification);
}

/* ------------------------------------------------------------------ */
/* Keeping the application alive                                       */
/* ------------------------------------------------------------------ */

static void
casement_tray_update_hold (CasementTray *self)
{
  gboolean hold;

  g_assert (CASEMENT_IS_TRAY (self));

  if (self->application == NULL)
    return;

  /* A running VM outlives its windows, and a shown icon is a way back to
   * the app: either keeps the process alive. */
  hold = casement_library_count_active (self->library) > 0 || self->has_host;
  if (hold == self->holding)
    return;

  self->holding = hold;
  if (hold)
    g_application_hold (self->application);
  else
    g_application_release (self->application);
}

/* ------------------------------------------------------------------ */
/* The menu                                                            */
/* ------------------------------------------------------------------ */

static int
tray_vm_id (const TrayVm *tray_vm,
            VmItem        item)
{
  return MENU_VM_BASE + (int) tray_vm->index * VM_ID_STRIDE + (int) item;
}

/* Finds what @id names: a fixed item (*tray_vm set to NULL) or an item of
 * a VM the library still has. */
static gboolean
casement_tray_lookup_id (CasementTray  *self,
                         int            id,
                         TrayVm       **tray_vm,
                         VmItem        *item)
{
  g_assert (CASEMENT_IS_TRAY (self));

  *tray_vm = NULL;

  if (id >= MENU_ROOT && id <= MENU_QUIT)
    return TRUE;

  if (id < MENU_VM_BASE || (id - MENU_VM_BASE) % VM_ID_STRIDE >= N_VM_ITEMS)
    return FALSE;

  for (guint i = 0; i < self->vms->len; i++)
    {
      TrayVm *candidate = g_ptr_array_index (self->vms, i);

      if (candidate->index == (guint) ((id - MENU_VM_BASE) / VM_ID_STRIDE))
        {
          *tray_vm = candidate;
          *item = (id - MENU_VM_BASE) % VM_ID_STRIDE;
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
vm_item_enabled (CasementVm *vm,
                 VmItem      item)
{
  CasementVmState state = casement_vm_get_state (vm);

  switch (item)
    {
    case VM_ITEM_START:
      return state == CASEMENT_VM_STATE_STOPPED || state == CASEMENT_VM_STATE_CRASHED;

    case VM_ITEM_SHUT_DOWN:
      return state == CASEMENT_VM_STATE_RUNNING;

    case VM_ITEM_FORCE_OFF:
      return state == CASEMENT_VM_STATE_RUNNING ||
             state == CASEMENT_VM_STATE_PAUSED ||
             state == CASEMENT_VM_STATE_STOPPING;

    case VM_ITEM_SUBMENU:
    case VM_ITEM_OPEN:
    case N_VM_ITEMS:
    default:
      return TRUE;
    }
}

/* dbusmenu labels take '_' as the mnemonic mark: a name's own
 * underscores are doubled. */
static char *
escape_mnemonic (const char *text)
{
  GString *escaped = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    {
      if (*p == '_')
        g_string_append_c (escaped, '_');
      g_string_append_c (escaped, *p);
    }

  return g_string_free (escaped, FALSE);
}

static void
add_standard (GVariantDict *dict,
              const char   *label,
              gboolean      enabled)
{
  g_variant_dict_insert (dict, "label", "s", label);
  g_variant_dict_insert (dict, "enabled", "b", enabled);
  g_variant_dict_insert (dict, "visible", "b", TRUE);
}

/* Returns: (nullable): a floating a{sv} of @id's properties, only those
 * in @names unless it is empty; NULL for an unknown id. */
static GVariant *
casement_tray_item_properties (CasementTray       *self,
                               int                 id,
                               const char * const *names)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) all = NULL;
  GVariantBuilder filtered;
  TrayVm *tray_vm;
  VmItem item = VM_ITEM_SUBMENU;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
    return NULL;

  if (tray_vm != NULL)
    {
      CasementVm *vm = tray_vm->vm;
      g_autofree char *name = escape_mnemonic (casement_vm_get_display_name (vm));
      g_autofree char *label = NULL;

      switch (item)
        {
        case VM_ITEM_SUBMENU:
          /* Translators: a tray menu entry: a virtual machine's name, then its state */
          label = g_strdup_printf (_("%s — %s"), name,
                                   casement_vm_state_to_label (casement_vm_get_state (vm)));
          add_standard (&dict, label, TRUE);
          g_variant_dict_insert (&dict, "children-display", "s", "submenu");
          break;

        case VM_ITEM_START:
          add_standard (&dict, _("_Start"), vm_item_enabled (vm, item));
          break;

        case VM_ITEM_OPEN:
          add_standard (&dict, _("_Open"), vm_item_enabled (vm, item));
          break;

        case VM_ITEM_SHUT_DOWN:
          add_standard (&dict, _("Shut _Down"), vm_item_enabled (vm, item));
          break;

        case VM_ITEM_FORCE_OFF:
          add_standard (&dict, _("_Force Off"), vm_item_enabled (vm, item));
          break;

        case N_VM_ITEMS:
        default:
          g_assert_not_reached ();
        }
    }
  else
    {
      switch (id)
        {
        case MENU_ROOT:
          g_variant_dict_insert (&dict, "children-display", "s", "submenu");
          break;

        case MENU_SEPARATOR_VMS:
        case MENU_SEPARATOR_QUIT:
          g_variant_dict_insert (&dict, "type", "s", "separator");
          g_variant_dict_insert (&dict, "visible", "b", TRUE);
          break;

        case MENU_NEW_VM:
          add_standard (&dict, _("_New Virtual Machine…"), TRUE);
          break;

        case MENU_SHOW:
          add_standard (&dict, _("_Show Casement"), TRUE);
          break;

        case MENU_QUIT:
          add_standard (&dict, _("_Quit"), TRUE);
          break;

        default:
          g_assert_not_reached ();
        }
    }

  if (names == NULL || names[0] == NULL)
    return g_variant_dict_end (&dict);

  all = g_variant_ref_sink (g_variant_dict_end (&dict));
  g_variant_builder_init (&filtered, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (all, names[i], NULL);

      if (value != NULL)
        g_variant_builder_add (&filtered, "{sv}", names[i], value);
    }

  return g_variant_builder_end (&filtered);
}

static GArray *
casement_tray_item_children (CasementTray *self,
                             int           id)
{
  GArray *children = g_array_new (FALSE, FALSE, sizeof (int));
  TrayVm *tray_vm;
  VmItem item = VM_ITEM_SUBMENU;
  int child;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
    return children;

  if (tray_vm != NULL)
    {
      if (item == VM_ITEM_SUBMENU)
        for (VmItem action = VM_ITEM_START; action < N_VM_ITEMS; action++)
          {
            child = tray_vm_id (tray_vm, action);
            g_array_append_val (children, child);
          }
      return children;
    }

  if (id != MENU_ROOT)
    return children;

  for (guint i = 0; i < self->vms->len; i++)
    {
      child = tray_vm_id (g_ptr_array_index (self->vms, i), VM_ITEM_SUBMENU);
      g_array_append_val (children, child);
    }
  if (self->vms->len > 0)
    {
      child = MENU_SEPARATOR_VMS;
      g_array_append_val (children, child);
    }
  for (child = MENU_NEW_VM; child <= MENU_QUIT; child++)
    g_array_append_val (children, child);

  return children;
}

/* The (ia{sv}av) node of @id, with children down to @depth levels (-1: all). */
static GVariant *
casement_tray_layout_node (CasementTray       *self,
                           int                 id,
                           int                 depth,
                           const char * const *names)
{
  g_autoptr(GArray) children = NULL;
  GVariantBuilder builder;
  GVariant *props;

  g_assert (CASEMENT_IS_TRAY (self));

  props = casement_tray_item_properties (self, id, names);
  g_assert (props != NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
  if (depth != 0)
    {
      children = casement_tray_item_children (self, id);
      for (guint i = 0; i < children->len; i++)
        g_variant_builder_add (&builder, "v",
                               casement_tray_layout_node (self, g_array_index (children, int, i),
                                                          depth < 0 ? -1 : depth - 1, names));
    }

  return g_variant_new ("(i@a{sv}av)", id, props, &builder);
}

static void
casement_tray_activate_app_action (CasementTray *self,
                                   const char   *name,
                                   GVariant     *target)
{
  g_autoptr(GVariant) owned_target = target ? g_variant_ref_sink (target) : NULL;

  g_assert (CASEMENT_IS_TRAY (self));

  if (self->application == NULL)
    return;

  if (!g_action_group_has_action (G_ACTION_GROUP (self->application), name))
    {
      g_debug ("The application has no action “%s”", name);
      return;
    }

  g_action_group_activate_action (G_ACTION_GROUP (self->application), name, owned_target);
}

static void
casement_tray_clicked (CasementTray *self,
                       int           id)
{
  TrayVm *tray_vm;
  VmItem item = VM_ITEM_SUBMENU;
  const char *slug;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
    return;

  if (tray_vm == NULL)
    {
      switch (id)
        {
        case MENU_NEW_VM:
          casement_tray_activate_app_action (self, "new-vm", NULL);
          break;

        case MENU_SHOW:
          if (self->application != NULL)
            g_application_activate (self->application);
          break;

        case MENU_QUIT:
          casement_tray_activate_app_action (self, "quit", NULL);
          break;

        default:
          break;
        }
      return;
    }

  /* The host may show a menu that is a moment old. */
  if (!vm_item_enabled (tray_vm->vm, item))
    return;

  slug = casement_vm_get_slug (tray_vm->vm);

  switch (item)
    {
    case VM_ITEM_START:
      casement_tray_activate_app_action (self, "start-vm", g_variant_new_string (slug));
      break;

    case VM_ITEM_OPEN:
      casement_tray_activate_app_action (self, "open-vm", g_variant_new_string (slug));
      break;

    case VM_ITEM_SHUT_DOWN:
      casement_tray_activate_app_action (self, "shut-down-vm", g_variant_new_string (slug));
      break;

    case VM_ITEM_FORCE_OFF:
      casement_tray_activate_app_action (self, "force-off-vm", g_variant_new_string (slug));
      break;

    case VM_ITEM_SUBMENU:
    case N_VM_ITEMS:
    default:
      break;
    }
}

/* ------------------------------------------------------------------ */
/* Signals to the host                                                 */
/* ------------------------------------------------------------------ */

static void
casement_tray_emit (CasementTray *self,
                    const char   *path,
                    const char   *interface,
                    const char   *signal,
                    GVariant     *parameters)
{
  g_autoptr(GVariant) owned = parameters ? g_variant_ref_sink (parameters) : NULL;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_TRAY (self));

  if (self->connection == NULL)
    return;

  if (!g_dbus_connection_emit_signal (self->connection, NULL, path, interface, signal, owned, &error))
    g_debug ("Could not emit %s: %s", signal, error->message);
}

static const char *
casement_tray_status (CasementTray *self)
{
  return self->n_active > 0 ? "Active" : "Passive";
}

static void
casement_tray_update_status (CasementTray *self)
{
  guint n_active;
  gboolean was_active;

  g_assert (CASEMENT_IS_TRAY (self));

  n_active = casement_library_count_active (self->library);
  if (n_active == self->n_active)
    return;

  was_active = self->n_active > 0;
  self->n_active = n_active;

  if (was_active != (n_active > 0))
    casement_tray_emit (self, ITEM_PATH, ITEM_INTERFACE, "NewStatus",
                        g_variant_new ("(s)", casement_tray_status (self)));
  casement_tray_emit (self, ITEM_PATH, ITEM_INTERFACE, "NewToolTip", NULL);
}

static void
casement_tray_emit_vm_properties (CasementTray *self,
                                  TrayVm       *tray_vm)
{
  GVariantBuilder updated;

  g_assert (CASEMENT_IS_TRAY (self));

  g_variant_builder_init (&updated, G_VARIANT_TYPE ("a(ia{sv})"));
  for (VmItem item = VM_ITEM_SUBMENU; item < N_VM_ITEMS; item++)
    {
      int id = tray_vm_id (tray_vm, item);

      g_variant_builder_add (&updated, "(i@a{sv})", id, casement_tray_item_properties (self, id, NULL));
    }

  casement_tray_emit (self, MENU_PATH, MENU_INTERFACE, "ItemsPropertiesUpdated",
                      g_variant_new ("(a(ia{sv})@a(ias))", &updated,
                                     g_variant_new_array (G_VARIANT_TYPE ("(ias)"), NULL, 0)));
}

static void
casement_tray_vm_state_changed (CasementTray *self,
                                GParamSpec   *pspec,
                                CasementVm   *vm)
{
  TrayVm *tray_vm;
  CasementVmState old_state;

  g_assert (CASEMENT_IS_TRAY (self));
  g_assert (CASEMENT_IS_VM (vm));

  if (!(tray_vm = casement_tray_find_vm (self, vm)))
    return;

  old_state = tray_vm->state;
  tray_vm->state = casement_vm_get_state (vm);

  casement_tray_emit_vm_properties (self, tray_vm);
  casement_tray_update_status (self);
  casement_tray_notify_transition (self, vm, old_state, tray_vm->state);
  casement_tray_update_background (self);
  casement_tray_update_hold (self);
}

static void
casement_tray_vm_config_changed (CasementTray *self,
                                 GParamSpec   *pspec,
                                 CasementVm   *vm)
{
  TrayVm *tray_vm;

  g_assert (CASEMENT_IS_TRAY (self));

  if ((tray_vm = casement_tray_find_vm (self, vm)))
    casement_tray_emit_vm_properties (self, tray_vm);
}

/* Follows the library: VMs keep their menu ids across reorderings, new
 * ones get fresh ids, and hosts are told to fetch the layout again. */
static void
casement_tray_sync_vms (CasementTray *self)
{
  g_autoptr(GPtrArray) vms = NULL;
  guint n_items;

  g_assert (CASEMENT_IS_TRAY (self));

  n_items = g_list_model_get_n_items (G_LIST_MODEL (self->library));
  vms = g_ptr_array_new_with_free_func ((GDestroyNotify) tray_vm_free);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(CasementVm) vm = g_list_model_get_item (G_LIST_MODEL (self->library), i);
      TrayVm *tray_vm;
      gpointer index;
      guint position;

      if ((tray_vm = casement_tray_find_vm (self, vm)) &&
          g_ptr_array_find (self->vms, tray_vm, &position))
        {
          g_ptr_array_add (vms, g_ptr_array_steal_index (self->vms, position));
          continue;
        }

      tray_vm = g_new0 (TrayVm, 1);
      tray_vm->vm = g_object_ref (vm);
      tray_vm->state = casement_vm_get_state (vm);
      if (g_hash_table_lookup_extended (self->indexes, casement_vm_get_slug (vm), NULL, &index))
        {
          tray_vm->index = GPOINTER_TO_UINT (index);
        }
      else
        {
          tray_vm->index = self->next_index++;
          g_hash_table_insert (self->indexes, g_strdup (casement_vm_get_slug (vm)),
                               GUINT_TO_POINTER (tray_vm->index));
        }

      g_signal_connect_object (vm, "notify::state",
                               G_CALLBACK (casement_tray_vm_state_changed), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (vm, "notify::config",
                               G_CALLBACK (casement_tray_vm_config_changed), self, G_CONNECT_SWAPPED);
      g_ptr_array_add (vms, tray_vm);
    }

  /* What is left is gone from the library. */
  for (guint i = 0; i < self->vms->len; i++)
    g_signal_handlers_disconnect_by_data (((TrayVm *) g_ptr_array_index (self->vms, i))->vm, self);

  g_ptr_array_unref (self->vms);
  self->vms = g_steal_pointer (&vms);

  self->revision++;
  casement_tray_emit (self, MENU_PATH, MENU_INTERFACE, "LayoutUpdated",
                      g_variant_new ("(ui)", self->revision, MENU_ROOT));
  casement_tray_update_status (self);
  casement_tray_update_background (self);
  casement_tray_update_hold (self);
}

static void
casement_tray_items_changed (CasementTray *self,
                             guint         position,
                             guint         removed,
                             guint         added,
                             GListModel   *model)
{
  g_assert (CASEMENT_IS_TRAY (self));

  casement_tray_sync_vms (self);
}

/* ------------------------------------------------------------------ */
/* D-Bus objects                                                       */
/* ------------------------------------------------------------------ */

static GVariant *
casement_tray_tool_tip (CasementTray *self)
{
  g_autofree char *text = NULL;

  if (self->n_active == 0)
    text = g_strdup (_("No virtual machine is running"));
  else
    text = g_strdup_printf (ngettext ("%u virtual machine is running",
                                      "%u virtual machines are running",
                                      self->n_active),
                            self->n_active);

  return g_variant_new ("(s@a(iiay)ss)", ICON_NAME,
                        g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0),
                        _("Casement"), text);
}

static GVariant *
casement_tray_item_get_property (GDBusConnection  *connection,
                                 const char       *sender,
                                 const char       *object_path,
                                 const char       *interface_name,
                                 const char       *property_name,
                                 GError          **error,
                                 gpointer          user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  if (g_str_equal (property_name, "Category"))
    return g_variant_new_string ("ApplicationStatus");
  if (g_str_equal (property_name, "Id"))
    return g_variant_new_string (self->application != NULL &&
                                 g_application_get_application_id (self->application) != NULL
                                 ? g_application_get_application_id (self->application)
                                 : APP_ID);
  if (g_str_equal (property_name, "Title"))
    return g_variant_new_string (_("Casement"));
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string (casement_tray_status (self));
  if (g_str_equal (property_name, "WindowId"))
    return g_variant_new_int32 (0);
  if (g_str_equal (property_name, "IconName"))
    return g_variant_new_string (ICON_NAME);
  if (g_str_equal (property_name, "IconThemePath"))
    return g_variant_new_string ("");
  if (g_str_equal (property_name, "IconPixmap"))
    return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
  if (g_str_equal (property_name, "ToolTip"))
    return casement_tray_tool_tip (self);
  if (g_str_equal (property_name, "ItemIsMenu"))
    return g_variant_new_boolean (FALSE);
  if (g_str_equal (property_name, "Menu"))
    return g_variant_new_object_path (MENU_PATH);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
               "No property %s", property_name);
  return NULL;
}

static void
casement_tray_item_method_call (GDBusConnection       *connection,
                                const char            *sender,
                                const char            *object_path,
                                const char            *interface_name,
                                const char            *method_name,
                                GVariant              *parameters,
                                GDBusMethodInvocation *invocation,
                                gpointer               user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  g_dbus_method_invocation_return_value (invocation, NULL);

  /* A click on the icon brings the library window, as launching does;
   * the other ways to poke the icon mean nothing here. */
  if (g_str_equal (method_name, "Activate") && self->application != NULL)
    g_application_activate (self->application);
}

static GVariant *
casement_tray_menu_get_property (GDBusConnection  *connection,
                                 const char       *sender,
                                 const char       *object_path,
                                 const char       *interface_name,
                                 const char       *property_name,
                                 GError          **error,
                                 gpointer          user_data)
{
  if (g_str_equal (property_name, "Version"))
    return g_variant_new_uint32 (3);
  if (g_str_equal (property_name, "TextDirection"))
    return g_variant_new_string (gtk_widget_get_default_direction () == GTK_TEXT_DIR_RTL ? "rtl" : "ltr");
  if (g_str_equal (property_name, "Status"))
    return g_variant_new_string ("normal");
  if (g_str_equal (property_name, "IconThemePath"))
    return g_variant_new_strv (NULL, 0);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
               "No property %s", property_name);
  return NULL;
}

static void
return_unknown_id (GDBusMethodInvocation *invocation,
                   int                    id)
{
  g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                         "No menu item %d", id);
}

static void
casement_tray_menu_method_call (GDBusConnection       *connection,
                                const char            *sender,
                                const char            *object_path,
                                const char            *interface_name,
                                const char            *method_name,
                                GVariant              *parameters,
                                GDBusMethodInvocation *invocation,
                                gpointer               user_data)
{
  CasementTray *self = user_data;
  TrayVm *tray_vm;
  VmItem item;

  g_assert (CASEMENT_IS_TRAY (self));

  if (g_str_equal (method_name, "GetLayout"))
    {
      g_autofree const char **names = NULL;
      int parent, depth;

      g_variant_get (parameters, "(ii^a&s)", &parent, &depth, &names);
      if (!casement_tray_lookup_id (self, parent, &tray_vm, &item))
        {
          return_unknown_id (invocation, parent);
          return;
        }

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(u@(ia{sv}av))", self->revision,
                                                            casement_tray_layout_node (self, parent, depth, names)));
    }
  else if (g_str_equal (method_name, "GetGroupProperties"))
    {
      g_autoptr(GVariant) ids = NULL;
      g_autofree const char **names = NULL;
      GVariantBuilder builder;
      gsize n_ids;
      const gint32 *id_list;

      g_variant_get (parameters, "(@ai^a&s)", &ids, &names);
      id_list = g_variant_get_fixed_array (ids, &n_ids, sizeof (gint32));

      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ia{sv})"));
      for (gsize i = 0; i < n_ids; i++)
        {
          GVariant *props = casement_tray_item_properties (self, id_list[i], names);

          if (props != NULL)
            g_variant_builder_add (&builder, "(i@a{sv})", id_list[i], props);
        }

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ia{sv}))", &builder));
    }
  else if (g_str_equal (method_name, "GetProperty"))
    {
      const char *name;
      const char *names[2] = { NULL, NULL };
      g_autoptr(GVariant) props = NULL;
      g_autoptr(GVariant) value = NULL;
      int id;

      g_variant_get (parameters, "(i&s)", &id, &name);
      names[0] = name;
      if (!(props = casement_tray_item_properties (self, id, names)))
        {
          return_unknown_id (invocation, id);
          return;
        }

      g_variant_ref_sink (props);
      if (!(value = g_variant_lookup_value (props, name, NULL)))
        {
          g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                                 "Menu item %d has no property %s", id, name);
          return;
        }

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
    }
  else if (g_str_equal (method_name, "Event"))
    {
      const char *event_id;
      int id;

      g_variant_get (parameters, "(i&svu)", &id, &event_id, NULL, NULL);
      if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
        {
          return_unknown_id (invocation, id);
          return;
        }

      /* Answer first: a click may quit the application. */
      g_dbus_method_invocation_return_value (invocation, NULL);
      if (g_str_equal (event_id, "clicked"))
        casement_tray_clicked (self, id);
    }
  else if (g_str_equal (method_name, "EventGroup"))
    {
      g_autoptr(GVariantIter) iter = NULL;
      g_autoptr(GArray) clicked = g_array_new (FALSE, FALSE, sizeof (int));
      GVariantBuilder errors;
      const char *event_id;
      int id;

      g_variant_get (parameters, "(a(isvu))", &iter);
      g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
      while (g_variant_iter_next (iter, "(i&svu)", &id, &event_id, NULL, NULL))
        {
          if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
            g_variant_builder_add (&errors, "i", id);
          else if (g_str_equal (event_id, "clicked"))
            g_array_append_val (clicked, id);
        }

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ai)", &errors));
      for (guint i = 0; i < clicked->len; i++)
        casement_tray_clicked (self, g_array_index (clicked, int, i));
    }
  else if (g_str_equal (method_name, "AboutToShow"))
    {
      int id;

      g_variant_get (parameters, "(i)", &id);
      if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
        {
          return_unknown_id (invocation, id);
          return;
        }

      /* The menu is kept up to date with signals: nothing to refresh. */
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b)", FALSE));
    }
  else if (g_str_equal (method_name, "AboutToShowGroup"))
    {
      g_autoptr(GVariantIter) iter = NULL;
      GVariantBuilder errors;
      int id;

      g_variant_get (parameters, "(ai)", &iter);
      g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
      while (g_variant_iter_next (iter, "i", &id))
        if (!casement_tray_lookup_id (self, id, &tray_vm, &item))
          g_variant_builder_add (&errors, "i", id);

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(@aiai)",
                                                            g_variant_new_array (G_VARIANT_TYPE_INT32, NULL, 0),
                                                            &errors));
    }
  else
    g_assert_not_reached ();
}

static const GDBusInterfaceVTable item_vtable = {
  casement_tray_item_method_call,
  casement_tray_item_get_property,
  NULL,
};

static const GDBusInterfaceVTable menu_vtable = {
  casement_tray_menu_method_call,
  casement_tray_menu_get_property,
  NULL,
};

/* ------------------------------------------------------------------ */
/* Registration with the watcher                                       */
/* ------------------------------------------------------------------ */

static void
casement_tray_update_has_host (CasementTray *self)
{
  gboolean has_host;

  g_assert (CASEMENT_IS_TRAY (self));

  has_host = self->state == CASEMENT_TRAY_STATE_REGISTERED && self->host_registered;
  if (has_host == self->has_host)
    return;

  self->has_host = has_host;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_HOST]);
  casement_tray_update_background (self);
  casement_tray_update_hold (self);
}

static const char *
state_nick (CasementTrayState state)
{
  /* The "state" property's pspec holds the enum class. */
  return g_enum_get_value (g_type_class_peek (CASEMENT_TYPE_TRAY_STATE), state)->value_nick;
}

static void
casement_tray_set_state (CasementTray      *self,
                         CasementTrayState  state)
{
  g_assert (CASEMENT_IS_TRAY (self));

  if (state != CASEMENT_TRAY_STATE_REGISTERED)
    self->host_registered = FALSE;

  if (self->state != state)
    {
      g_debug ("%s → %s", state_nick (self->state), state_nick (state));
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }

  casement_tray_update_has_host (self);
}

/* A new call to the watcher replaces whatever the last one was doing. */
static GCancellable *
casement_tray_renew_cancellable (CasementTray *self)
{
  g_assert (CASEMENT_IS_TRAY (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  return self->cancellable;
}

static void
casement_tray_query_host_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  CasementTray *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Not cancelled, so the tray is alive and still registered. */
  self = CASEMENT_TRAY (user_data);

  if (reply == NULL)
    {
      g_debug ("Could not ask the watcher for a host: %s", error->message);
      self->host_registered = FALSE;
    }
  else
    {
      g_variant_get (reply, "(v)", &value);
      self->host_registered = g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) &&
                              g_variant_get_boolean (value);
    }

  casement_tray_update_has_host (self);
}

static void
casement_tray_query_host (CasementTray *self)
{
  g_assert (CASEMENT_IS_TRAY (self));
  g_assert (self->state == CASEMENT_TRAY_STATE_REGISTERED);

  g_dbus_connection_call (self->connection, WATCHER_NAME, WATCHER_PATH,
                          "org.freedesktop.DBus.Properties", "Get",
                          g_variant_new ("(ss)", WATCHER_INTERFACE, "IsStatusNotifierHostRegistered"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          casement_tray_renew_cancellable (self),
                          casement_tray_query_host_cb, self);
}

static void
casement_tray_register_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  CasementTray *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = CASEMENT_TRAY (user_data);

  if (reply == NULL)
    {
      /* Most often the watcher went away meanwhile; it is retried when
       * one appears. */
      g_debug ("Not registered with the StatusNotifierWatcher: %s", error->message);
      casement_tray_set_state (self, CASEMENT_TRAY_STATE_WAITING);
      return;
    }

  casement_tray_set_state (self, CASEMENT_TRAY_STATE_REGISTERED);
  casement_tray_query_host (self);
}

static void
casement_tray_try_register (CasementTray *self)
{
  g_assert (CASEMENT_IS_TRAY (self));

  if (!self->name_acquired || !self->watcher_present)
    return;

  casement_tray_set_state (self, CASEMENT_TRAY_STATE_REGISTERING);
  g_dbus_connection_call (self->connection, WATCHER_NAME, WATCHER_PATH, WATCHER_INTERFACE,
                          "RegisterStatusNotifierItem", g_variant_new ("(s)", self->bus_name),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          casement_tray_renew_cancellable (self),
                          casement_tray_register_cb, self);
}

static void
casement_tray_name_acquired (GDBusConnection *connection,
                             const char      *name,
                             gpointer         user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  self->name_acquired = TRUE;
  casement_tray_try_register (self);
}

static void
casement_tray_name_lost (GDBusConnection *connection,
                         const char      *name,
                         gpointer         user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  g_debug ("Lost or could not own the name %s", name);
  self->name_acquired = FALSE;
  g_cancellable_cancel (self->cancellable);
  casement_tray_set_state (self, CASEMENT_TRAY_STATE_WAITING);
}

static void
casement_tray_watcher_appeared (GDBusConnection *connection,
                                const char      *name,
                                const char      *name_owner,
                                gpointer         user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  /* Also a restarted watcher (a new owner): it knows nothing of us. */
  self->watcher_present = TRUE;
  casement_tray_try_register (self);
}

static void
casement_tray_watcher_vanished (GDBusConnection *connection,
                                const char      *name,
                                gpointer         user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  self->watcher_present = FALSE;
  g_cancellable_cancel (self->cancellable);
  if (self->state != CASEMENT_TRAY_STATE_HIDDEN)
    casement_tray_set_state (self, CASEMENT_TRAY_STATE_WAITING);
}

static void
casement_tray_watcher_signal (GDBusConnection *connection,
                              const char      *sender_name,
                              const char      *object_path,
                              const char      *interface_name,
                              const char      *signal_name,
                              GVariant        *parameters,
                              gpointer         user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  if (self->state != CASEMENT_TRAY_STATE_REGISTERED)
    return;

  if (g_str_equal (signal_name, "StatusNotifierHostRegistered"))
    {
      self->host_registered = TRUE;
      casement_tray_update_has_host (self);
    }
  else if (g_str_equal (signal_name, "StatusNotifierHostUnregistered"))
    {
      /* Another host may remain. */
      casement_tray_query_host (self);
    }
}

static void
casement_tray_unexport (CasementTray *self)
{
  g_assert (CASEMENT_IS_TRAY (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->connection != NULL)
    {
      if (self->watcher_signal_id != 0)
        g_dbus_connection_signal_unsubscribe (self->connection, self->watcher_signal_id);
      if (self->item_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->item_id);
      if (self->menu_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->menu_id);
    }
  self->watcher_signal_id = 0;
  self->item_id = 0;
  self->menu_id = 0;

  g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  g_clear_handle_id (&self->own_id, g_bus_unown_name);
  g_clear_pointer (&self->bus_name, g_free);
  g_clear_object (&self->connection);

  self->name_acquired = FALSE;
  self->watcher_present = FALSE;
  casement_tray_set_state (self, CASEMENT_TRAY_STATE_HIDDEN);
}

static void
casement_tray_export (CasementTray *self)
{
  static guint n_exports;
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  g_assert (CASEMENT_IS_TRAY (self));
  g_assert (self->connection == NULL);

  if (self->application == NULL ||
      !(connection = g_application_get_dbus_connection (self->application)))
    {
      g_debug ("No session bus: no tray icon");
      return;
    }

  self->connection = g_object_ref (connection);
  self->item_id = g_dbus_connection_register_object (connection, ITEM_PATH, item_info->interfaces[0],
                                                     &item_vtable, self, NULL, &error);
  if (self->item_id != 0)
    self->menu_id = g_dbus_connection_register_object (connection, MENU_PATH, menu_info->interfaces[0],
                                                       &menu_vtable, self, NULL, &error);
  if (self->menu_id == 0)
    {
      g_warning ("Could not export the tray icon: %s", error->message);
      casement_tray_unexport (self);
      return;
    }

  /* The spec's name: the host finds the item at ITEM_PATH behind it. */
  self->bus_name = g_strdup_printf ("org.kde.StatusNotifierItem-%d-%u", (int) getpid (), ++n_exports);
  self->watcher_signal_id =
    g_dbus_connection_signal_subscribe (connection, WATCHER_NAME, WATCHER_INTERFACE, NULL,
                                        WATCHER_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        casement_tray_watcher_signal, self, NULL);
  casement_tray_set_state (self, CASEMENT_TRAY_STATE_WAITING);
  self->own_id = g_bus_own_name_on_connection (connection, self->bus_name,
                                               G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                               casement_tray_name_acquired,
                                               casement_tray_name_lost,
                                               self, NULL);
  self->watch_id = g_bus_watch_name_on_connection (connection, WATCHER_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   casement_tray_watcher_appeared,
                                                   casement_tray_watcher_vanished,
                                                   self, NULL);
}

/* ------------------------------------------------------------------ */
/* Application actions                                                 */
/* ------------------------------------------------------------------ */

static CasementVm *
casement_tray_lookup_vm (CasementTray *self,
                         GVariant     *param)
{
  const char *slug = g_variant_get_string (param, NULL);
  CasementVm *vm;

  g_assert (CASEMENT_IS_TRAY (self));

  /* A notification may outlive its VM. */
  if (!(vm = casement_library_lookup (self->library, slug)))
    g_debug ("No virtual machine “%s”", slug);

  return vm;
}

static void
casement_tray_start_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(CasementTray) self = user_data;
  CasementVm *vm = CASEMENT_VM (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  if (casement_vm_start_finish (vm, result, &error))
    return;

  /* Translators: %s is the name of a virtual machine */
  title = g_strdup_printf (_("Could not start “%s”"), casement_vm_get_display_name (vm));
  casement_tray_notify_error (self, vm, title, error);
}

static void
casement_tray_start_vm_action (GSimpleAction *action,
                               GVariant      *param,
                               gpointer       user_data)
{
  CasementTray *self = user_data;
  CasementVm *vm;

  g_assert (CASEMENT_IS_TRAY (self));

  if ((vm = casement_tray_lookup_vm (self, param)))
    casement_vm_start_async (vm, NULL, NULL, casement_tray_start_cb, g_object_ref (self));
}

static void
casement_tray_shut_down_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(CasementTray) self = user_data;
  CasementVm *vm = CASEMENT_VM (object);
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  if (casement_vm_row_shut_down_finish (vm, result, &error))
    return;

  if (!g_error_matches (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_TIMEOUT))
    {
      /* Translators: %s is the name of a virtual machine */
      title = g_strdup_printf (_("Could not shut down “%s”"), casement_vm_get_display_name (vm));
      casement_tray_notify_error (self, vm, title, error);
      return;
    }

  /* Only this tray asked, so only it can offer the way out. Offer, never
   * decide: forcing off can lose the guest's unsaved work. */
  /* Translators: %s is the name of a virtual machine */
  title = g_strdup_printf (_("“%s” did not shut down"), casement_vm_get_display_name (vm));
  notification = notification_new (title,
                                   _("The guest did not respond to the request to power off. Force it off to stop it now; unsaved work in the guest is lost."),
                                   G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_add_button_with_target (notification, _("Force Off"), "app.force-off-vm",
                                         "s", casement_vm_get_slug (vm));
  g_notification_set_default_action_and_target (notification, "app.open-vm",
                                                "s", casement_vm_get_slug (vm));
  casement_tray_send_vm_notification (self, vm, notification);
}

static void
casement_tray_shut_down_vm_action (GSimpleAction *action,
                                   GVariant      *param,
                                   gpointer       user_data)
{
  CasementTray *self = user_data;
  CasementVm *vm;

  g_assert (CASEMENT_IS_TRAY (self));

  if ((vm = casement_tray_lookup_vm (self, param)))
    casement_vm_row_shut_down_async (vm, self->shutdown_timeout, NULL,
                                     casement_tray_shut_down_cb, g_object_ref (self));
}

static void
casement_tray_force_off_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(CasementTray) self = user_data;
  CasementVm *vm = CASEMENT_VM (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  if (casement_vm_force_off_finish (vm, result, &error))
    return;

  /* Translators: %s is the name of a virtual machine */
  title = g_strdup_printf (_("Could not force off “%s”"), casement_vm_get_display_name (vm));
  casement_tray_notify_error (self, vm, title, error);
}

static void
casement_tray_force_off_vm_action (GSimpleAction *action,
                                   GVariant      *param,
                                   gpointer       user_data)
{
  CasementTray *self = user_data;
  CasementVm *vm;

  g_assert (CASEMENT_IS_TRAY (self));

  if ((vm = casement_tray_lookup_vm (self, param)))
    casement_vm_force_off_async (vm, NULL, casement_tray_force_off_cb, g_object_ref (self));
}

typedef struct
{
  CasementTray *tray;
  CasementVm   *vm;
} ShowLog;

static void
show_log_free (ShowLog *data)
{
  g_clear_object (&data->tray);
  g_clear_object (&data->vm);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ShowLog, show_log_free)

static void
casement_tray_show_log_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(ShowLog) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  if (g_app_info_launch_default_for_uri_finish (result, &error))
    return;

  /* Translators: %s is the name of a virtual machine */
  title = g_strdup_printf (_("Could not open the log of “%s”"), casement_vm_get_display_name (data->vm));
  casement_tray_notify_error (data->tray, data->vm, title, error);
}

static void
casement_tray_show_vm_log_action (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  CasementTray *self = user_data;
  g_autofree char *vm_dir = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GFile) log = NULL;
  ShowLog *data;
  CasementVm *vm;

  g_assert (CASEMENT_IS_TRAY (self));

  if (!(vm = casement_tray_lookup_vm (self, param)))
    return;

  vm_dir = casement_vm_dup_vm_dir (vm);
  log = g_file_new_build_filename (vm_dir, CASEMENT_VM_QEMU_LOG, NULL);
  uri = g_file_get_uri (log);

  data = g_new0 (ShowLog, 1);
  data->tray = g_object_ref (self);
  data->vm = g_object_ref (vm);
  g_app_info_launch_default_for_uri_async (uri, NULL, NULL, casement_tray_show_log_cb, data);
}

static void
casement_tray_show_library_action (GSimpleAction *action,
                                   GVariant      *param,
                                   gpointer       user_data)
{
  CasementTray *self = user_data;

  g_assert (CASEMENT_IS_TRAY (self));

  if (self->application != NULL)
    g_application_activate (self->application);
}

static const GActionEntry tray_actions[] = {
  { "start-vm", casement_tray_start_vm_action, "s" },
  { "shut-down-vm", casement_tray_shut_down_vm_action, "s" },
  { "force-off-vm", casement_tray_force_off_vm_action, "s" },
  { "show-vm-log", casement_tray_show_vm_log_action, "s" },
  { "show-library", casement_tray_show_library_action },
};

/* ------------------------------------------------------------------ */
/* GObject                                                             */
/* ------------------------------------------------------------------ */

static void
casement_tray_windows_changed (CasementTray *self,
                               GtkWindow    *window,
                               GApplication *application)
{
  g_assert (CASEMENT_IS_TRAY (self));

  casement_tray_update_background (self);
}

static void
casement_tray_constructed (GObject *object)
{
  CasementTray *self = (CasementTray *)object;

  G_OBJECT_CLASS (casement_tray_parent_class)->constructed (object);

  g_assert (G_IS_APPLICATION (self->application));
  g_assert (CASEMENT_IS_LIBRARY (self->library));

  g_action_map_add_action_entries (G_ACTION_MAP (self->application), tray_actions,
                                   G_N_ELEMENTS (tray_actions), self);

  if (GTK_IS_APPLICATION (self->application))
    {
      g_signal_connect_object (self->application, "window-added",
                               G_CALLBACK (casement_tray_windows_changed), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->application, "window-removed",
                               G_CALLBACK (casement_tray_windows_changed), self, G_CONNECT_SWAPPED);
    }

  g_signal_connect_object (self->library, "items-changed",
                           G_CALLBACK (casement_tray_items_changed), self, G_CONNECT_SWAPPED);
  casement_tray_sync_vms (self);
}

static void
casement_tray_dispose (GObject *object)
{
  CasementTray *self = (CasementTray *)object;

  casement_tray_unexport (self);

  for (guint i = 0; i < self->vms->len; i++)
    g_signal_handlers_disconnect_by_data (((TrayVm *) g_ptr_array_index (self->vms, i))->vm, self);
  g_ptr_array_set_size (self->vms, 0);

  if (self->application != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (tray_actions); i++)
        g_action_map_remove_action (G_ACTION_MAP (self->application), tray_actions[i].name);
      if (self->background_key != NULL)
        g_application_withdraw_notification (self->application, BACKGROUND_ID);
      if (self->holding)
        g_application_release (self->application);
      self->holding = FALSE;
    }
  g_clear_pointer (&self->background_key, g_free);
  g_clear_weak_pointer (&self->application);
  g_clear_object (&self->library);

  G_OBJECT_CLASS (casement_tray_parent_class)->dispose (object);
}

static void
casement_tray_finalize (GObject *object)
{
  CasementTray *self = (CasementTray *)object;

  g_clear_pointer (&self->vms, g_ptr_array_unref);
  g_clear_pointer (&self->indexes, g_hash_table_unref);

  G_OBJECT_CLASS (casement_tray_parent_class)->finalize (object);
}

static void
casement_tray_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  CasementTray *self = CASEMENT_TRAY (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      g_value_set_object (value, self->application);
      break;

    case PROP_LIBRARY:
      g_value_set_object (value, self->library);
      break;

    case PROP_VISIBLE:
      g_value_set_boolean (value, casement_tray_get_visible (self));
      break;

    case PROP_SHUTDOWN_TIMEOUT:
      g_value_set_uint (value, casement_tray_get_shutdown_timeout (self));
      break;

    case PROP_STATE:
      g_value_set_enum (value, casement_tray_get_state (self));
      break;

    case PROP_HAS_HOST:
      g_value_set_boolean (value, casement_tray_get_has_host (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_tray_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  CasementTray *self = CASEMENT_TRAY (object);

  switch (prop_id)
    {
    case PROP_APPLICATION:
      g_set_weak_pointer (&self->application, g_value_get_object (value));
      break;

    case PROP_LIBRARY:
      self->library = g_value_dup_object (value);
      break;

    case PROP_VISIBLE:
      casement_tray_set_visible (self, g_value_get_boolean (value));
      break;

    case PROP_SHUTDOWN_TIMEOUT:
      casement_tray_set_shutdown_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_tray_class_init (CasementTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  g_autoptr(GError) error = NULL;

  object_class->constructed = casement_tray_constructed;
  object_class->dispose = casement_tray_dispose;
  object_class->finalize = casement_tray_finalize;
  object_class->get_property = casement_tray_get_property;
  object_class->set_property = casement_tray_set_property;

  properties[PROP_APPLICATION] =
    g_param_spec_object ("application", NULL, NULL,
                         G_TYPE_APPLICATION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_LIBRARY] =
    g_param_spec_object ("library", NULL, NULL,
                         CASEMENT_TYPE_LIBRARY,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_VISIBLE] =
    g_param_spec_boolean ("visible", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SHUTDOWN_TIMEOUT] =
    g_param_spec_uint ("shutdown-timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       CASEMENT_TYPE_TRAY_STATE, CASEMENT_TRAY_STATE_HIDDEN,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_HAS_HOST] =
    g_param_spec_boolean ("has-host", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  if (!(item_info = g_dbus_node_info_new_for_xml (item_xml, &error)) ||
      !(menu_info = g_dbus_node_info_new_for_xml (menu_xml, &error)))
    g_error ("Bad D-Bus interface XML: %s", error->message);
}

static void
casement_tray_init (CasementTray *self)
{
  self->vms = g_ptr_array_new_with_free_func ((GDestroyNotify) tray_vm_free);
  self->indexes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->revision = 1;
}

CasementTray *
casement_tray_new (GApplication    *application,
                   CasementLibrary *library)
{
  g_return_val_if_fail (G_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (CASEMENT_IS_LIBRARY (library), NULL);

  return g_object_new (CASEMENT_TYPE_TRAY,
                       "application", application,
                       "library", library,
                       NULL);
}

gboolean
casement_tray_get_visible (CasementTray *self)
{
  g_return_val_if_fail (CASEMENT_IS_TRAY (self), FALSE);

  return self->visible;
}

void
casement_tray_set_visible (CasementTray *self,
                           gboolean      visible)
{
  g_return_if_fail (CASEMENT_IS_TRAY (self));

  visible = !!visible;
  if (self->visible == visible)
    return;

  self->visible = visible;
  if (visible)
    casement_tray_export (self);
  else
    casement_tray_unexport (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISIBLE]);
}

guint
casement_tray_get_shutdown_timeout (CasementTray *self)
{
  g_return_val_if_fail (CASEMENT_IS_TRAY (self), 0);

  return self->shutdown_timeout;
}

void
casement_tray_set_shutdown_timeout (CasementTray *self,
                                    guint         seconds)
{
  g_return_if_fail (CASEMENT_IS_TRAY (self));

  if (self->shutdown_timeout == seconds)
    return;

  self->shutdown_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHUTDOWN_TIMEOUT]);
}

CasementTrayState
casement_tray_get_state (CasementTray *self)
{
  g_return_val_if_fail (CASEMENT_IS_TRAY (self), CASEMENT_TRAY_STATE_HIDDEN);

  return self->state;
}

gboolean
casement_tray_get_has_host (CasementTray *self)
{
  g_return_val_if_fail (CASEMENT_IS_TRAY (self), FALSE);

  return self->has_host;
}

const char *
casement_tray_get_bus_name (CasementTray *self)
{
  g_return_val_if_fail (CASEMENT_IS_TRAY (self), NULL);

  return self->bus_name;
}
