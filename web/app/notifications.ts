// Browser notifications for mentions and direct messages while the tab is hidden (only with the user's permission).

export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined';
}

export function notificationsAllowed(): boolean {
  return notificationsSupported() && Notification.permission === 'granted';
}

/** Shows a notification when the page is hidden and permission was granted; clicking it focuses the page. */
export function notifyWhenHidden(title: string, body: string, tag: string, onClick: () => void): void {
  if (!document.hidden || !notificationsAllowed()) return;
  const notification = new Notification(title, { body, tag });
  notification.onclick = () => {
    window.focus();
    onClick();
    notification.close();
  };
}
