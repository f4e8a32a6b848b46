import type { BlocksService } from './blocks.service.js';
import type { DirectRoomsService } from './direct-rooms.service.js';
import type { DirectoryService } from './directory.service.js';
import type { InboxService } from './inbox.service.js';
import type { AccountsService } from './accounts.service.js';
import type { MessageSearchService } from './message-search.service.js';
import type { MessagesService } from './messages.service.js';
import type { PresenceService } from './presence.service.js';
import type { RoomMembersService } from './room-members.js';
import type { ReactionsService } from './reactions.service.js';
import type { ReadStateService } from './read-state.service.js';
import type { RoomStreamService } from './room-stream.service.js';
import type { RoomsService } from './rooms.service.js';
import type { TypingService } from './typing.service.js';
import type { UsersService } from './users.service.js';

/** The domain services, built once by the composition root. */
export interface Services {
  users: UsersService;
  rooms: RoomsService;
  messages: MessagesService;
  reactions: ReactionsService;
  readState: ReadStateService;
  typing: TypingService;
  roomStream: RoomStreamService;
  presence: PresenceService;
  accounts: AccountsService;
  directory: DirectoryService;
  directRooms: DirectRoomsService;
  members: RoomMembersService;
  blocks: BlocksService;
  messageSearch: MessageSearchService;
  inbox: InboxService;
}
