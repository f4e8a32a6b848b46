import { useCallback, useEffect, useState } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppJoinRoomDocument, AppSignOutDocument, type AppRoomFragment, type AppUserFragment } from '../__generated__/graphql.js';
import { useT, type Language } from '../i18n.js';
import { notificationsSupported, notifyWhenHidden } from '../notifications.js';
import { useConnectionStatus } from '../hooks/useConnectionStatus.js';
import { useRoomRoute } from '../hooks/useRoute.js';
import { useRooms, type InboxNotice } from '../hooks/useRooms.js';
import type { JumpTarget } from '../hooks/useTimeline.js';
import { Directory } from './Directory.js';
import { LanguageSwitch } from './LanguageSwitch.js';
import { NewRoomForm } from './NewRoomForm.js';
import { PeopleSearch } from './PeopleSearch.js';
import { RoomList } from './RoomList.js';
import { RoomView } from './RoomView.js';
import { SearchPanel } from './SearchPanel.js';
import { StatusBar } from './StatusBar.js';

export type Panel = 'new-room' | 'directory' | 'direct' | 'search' | null;

interface Props {
  client: ParleyClient;
  me: AppUserFragment;
  language: Language;
  onLanguage(language: Language): void;
  onSignedOut(): void;
}

/** The signed-in layout: header with the connection state, the room list, the open room, and side panels. */
export function ChatShell({ client, me, language, onLanguage, onSignedOut }: Props) {
  const t = useT();
  const status = useConnectionStatus(client);
  const [roomId, openRoom] = useRoomRoute();
  const [panel, setPanel] = useState<Panel>(null);
  // A search result opens its room at the matched message; any other way into a room opens it at the newest.
  const [jump, setJump] = useState<{ roomId: string; at: JumpTarget } | null>(null);
  useEffect(() => setJump((current) => (current && current.roomId !== roomId ? null : current)), [roomId]);
  const [pending, setPending] = useState(0);
  const [permission, setPermission] = useState(() => (notificationsSupported() ? Notification.permission : 'denied'));

  const onNotice = useCallback(
    (notice: InboxNotice) => {
      const title = notice.kind === 'mention' ? t.mentionedYou(notice.author, notice.roomName) : t.newDirect(notice.author);
      notifyWhenHidden(title, notice.body, notice.messageId, () => openRoom(notice.roomId));
    },
    [t, openRoom],
  );
  const rooms = useRooms(client, me, onNotice);
  const room = rooms.rooms.find((r) => r.id === roomId) ?? null;

  // The count of sends waiting for the server's answer, told by the SDK on every change.
  useEffect(() => {
    setPending(client.pendingSends.length);
    return client.onPendingSends((sends) => setPending(sends.length));
  }, [client]);

  const signOut = async () => {
    await client.request(AppSignOutDocument, {}).catch(() => undefined);
    await client.close();
    onSignedOut();
  };

  const opened = (next: AppRoomFragment) => {
    rooms.upsert(next);
    setPanel(null);
    openRoom(next.id);
  };
  const joinInvitation = async (invited: AppRoomFragment) => opened((await client.request(AppJoinRoomDocument, { roomId: invited.id })).joinRoom);
  const toggle = (next: Panel) => setPanel((current) => (current === next ? null : next));

  return (
    <div className={`shell ${roomId ? 'room-open' : ''}`}>
      <header className="topbar">
        <h1 className="brand">{t.appName}</h1>
        <StatusBar status={status} pending={pending} />
        <div className="topbar-actions">
          <span className="me">@{me.username}</span>
          {permission === 'default' && (
            <button type="button" className="small secondary" onClick={() => void Notification.requestPermission().then(setPermission)}>
              {t.enableNotifications}
            </button>
          )}
          <LanguageSwitch language={language} onLanguage={onLanguage} />
          <button type="button" className="small secondary" aria-label="Sign out" onClick={() => void signOut()}>
            {t.signOut}
          </button>
        </div>
      </header>
      <aside className="sidebar">
        <div className="sidebar-actions">
          <button type="button" aria-label="New room" aria-expanded={panel === 'new-room'} onClick={() => toggle('new-room')}>
            {t.newRoom}
          </button>
          <button type="button" className="secondary" aria-expanded={panel === 'directory'} onClick={() => toggle('directory')}>
            {t.directory}
          </button>
          <button type="button" className="secondary" aria-expanded={panel === 'direct'} onClick={() => toggle('direct')}>
            {t.directMessage}
          </button>
          <button type="button" className="secondary" aria-expanded={panel === 'search'} onClick={() => toggle('search')}>
            {t.search}
          </button>
        </div>
        {panel === 'new-room' && <NewRoomForm client={client} onCreated={opened} onCancel={() => setPanel(null)} />}
        {panel === 'directory' && <Directory client={client} onJoined={opened} onOpen={(id) => (setPanel(null), openRoom(id))} onClose={() => setPanel(null)} />}
        {panel === 'direct' && <PeopleSearch client={client} mode="direct" onDirectRoom={opened} onClose={() => setPanel(null)} />}
        {panel === 'search' && (
          <SearchPanel client={client} onOpen={(id, at) => (setPanel(null), setJump({ roomId: id, at }), openRoom(id))} onClose={() => setPanel(null)} />
        )}
        <RoomList rooms={rooms.rooms} invitations={rooms.invitations} openRoomId={roomId} onOpen={openRoom} onJoinInvitation={(r) => void joinInvitation(r)} />
      </aside>
      <main className="main">
        {roomId ? (
          <RoomView
            key={roomId}
            client={client}
            me={me}
            roomId={roomId}
            room={room}
            onBack={() => openRoom(null)}
            onSeen={rooms.markSeen}
            onLeft={() => (rooms.remove(roomId), openRoom(null))}
            onSent={() => setPending(client.pendingSends.length)}
            jump={jump?.roomId === roomId ? jump.at : null}
            onJumpLeft={() => setJump(null)}
          />
        ) : (
          <p className="placeholder">{t.pickRoom}</p>
        )}
      </main>
    </div>
  );
}
