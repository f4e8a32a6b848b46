import type { MessagesService } from './messages.service.js';
import type { RoomsService } from './rooms.service.js';
import type { UsersService } from './users.service.js';

/** The domain services, built once by the composition root. */
export interface Services {
  users: UsersService;
  rooms: RoomsService;
  messages: MessagesService;
}
