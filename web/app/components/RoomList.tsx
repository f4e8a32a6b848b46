import type { AppRoomFragment } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';

interface Props {
  rooms: AppRoomFragment[];
  invitations: AppRoomFragment[];
  openRoomId: string | null;
  onOpen(roomId: string): void;
  onJoinInvitation(room: AppRoomFragment): void;
}

/**
 * The viewer's rooms, a navigation landmark named "Rooms" whose links are named by the room's name alone: the
 * badges are aria-hidden, and their counts are told by the link's description instead.
 */
export function RoomList({ rooms, invitations, openRoomId, onOpen, onJoinInvitation }: Props) {
  const t = useT();
  const sorted = [...rooms].sort((a, b) => (a.kind === 'DIRECT' ? 1 : 0) - (b.kind === 'DIRECT' ? 1 : 0) || a.name.localeCompare(b.name));
  return (
    <nav aria-label="Rooms" className="room-list">
      <h2 className="section-title">{t.rooms}</h2>
      {sorted.length === 0 && <p className="hint">{t.noRooms}</p>}
      <ul>
        {sorted.map((room) => {
          const description = [room.unreadCount > 0 ? t.unread(room.unreadCount) : '', room.mentionCount > 0 ? t.mentions(room.mentionCount) : '']
            .filter(Boolean)
            .join(t.listSeparator);
          return (
            <li key={room.id}>
              <a
                href={`/rooms/${encodeURIComponent(room.id)}`}
                aria-label={room.name}
                aria-current={room.id === openRoomId ? 'page' : undefined}
                aria-description={description || undefined}
                className={room.unreadCount > 0 ? 'room-link unread' : 'room-link'}
                onClick={(event) => {
                  if (event.metaKey || event.ctrlKey || event.shiftKey) return;
                  event.preventDefault();
                  onOpen(room.id);
                }}
              >
                <span className="room-name" aria-hidden="true">
                  <span className="room-sigil">{room.kind === 'DIRECT' ? '@' : room.kind === 'PRIVATE' ? '🔒' : '#'}</span>
                  {room.name}
                </span>
                <span className="badges" aria-hidden="true">
                  {room.mentionCount > 0 && <span className="badge mention">@{room.mentionCount}</span>}
                  {room.unreadCount > 0 && <span className="badge unread">{room.unreadCount}</span>}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {invitations.length > 0 && (
        <section aria-labelledby="invitations-title" className="invitations">
          <h2 id="invitations-title" className="section-title">
            {t.invitations}
          </h2>
          <ul>
            {invitations.map((room) => (
              <li key={room.id} className="invitation">
                <span>#{room.name}</span>
                <button type="button" className="small" onClick={() => onJoinInvitation(room)} aria-label={`${t.join} ${room.name}`}>
                  {t.join}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </nav>
  );
}
