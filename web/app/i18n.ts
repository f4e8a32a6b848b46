// English and Simplified Chinese, chosen from navigator.language and switchable (kept in localStorage).
// Controls whose accessible names are a contract (README "The chat app") keep their English name as aria-label
// in both languages; only their visible text is translated.
import { createContext, useContext } from 'react';

export type Language = 'en' | 'zh';

const en = {
  appName: 'Parley',
  /** The BCP 47 tag times are formatted with. */
  locale: 'en',
  username: 'Username',
  password: 'Password',
  signIn: 'Sign in',
  signUp: 'Sign up',
  signOut: 'Sign out',
  signInTitle: 'Sign in to Parley',
  authHint: 'New here? Choose a username (3–32 letters, digits, _ . -) and a password (8+ characters), then Sign up.',
  language: 'Language',
  rooms: 'Rooms',
  invitations: 'Invitations',
  noRooms: 'No rooms yet: create one or browse the directory.',
  newRoom: 'New room',
  roomName: 'Room name',
  privateRoom: 'Private (invite only)',
  create: 'Create room',
  cancel: 'Cancel',
  close: 'Close',
  directory: 'Browse rooms',
  searchRooms: 'Search rooms',
  join: 'Join',
  joined: 'Joined',
  members: 'Members',
  memberCount: (n: number) => `${n} member${n === 1 ? '' : 's'}`,
  directMessage: 'Direct message',
  findPeople: 'Find people',
  invite: 'Invite',
  inviteTo: (user: string) => `Invite ${user}`,
  invited: (user: string) => `${user} was invited`,
  messageUser: (user: string) => `Chat with ${user}`,
  search: 'Search',
  searchQuery: 'Search text',
  noResults: 'No results',
  message: 'Message',
  messagePlaceholder: (room: string) => `Message #${room}`,
  send: 'Send',
  sending: 'Sending…',
  edited: 'edited',
  deleted: 'This message was deleted.',
  edit: 'Edit',
  save: 'Save',
  delete: 'Delete',
  reply: 'Reply',
  replyingTo: (user: string) => `Replying to ${user}`,
  react: (emoji: string) => `React with ${emoji}`,
  reactions: 'Reactions',
  reactionCount: (emoji: string, n: number) => `${emoji} ${n}`,
  loadOlder: 'Load older',
  loadNewer: 'Load newer',
  beginning: 'This is the beginning of the room.',
  typing: (names: string[]) => (names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`),
  unread: (n: number) => `${n} unread`,
  mentions: (n: number) => `${n} mention${n === 1 ? '' : 's'}`,
  /** Between the counts a room entry tells ("2 unread, 1 mention"). */
  listSeparator: ', ',
  pickRoom: 'Pick a room on the left, or create one.',
  leave: 'Leave room',
  status: {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    offline: 'Offline: reconnecting…',
    closed: 'Disconnected',
  },
  pendingCount: (n: number) => `${n} waiting to send`,
  presence: { ONLINE: 'online', AWAY: 'away', OFFLINE: 'offline' },
  owner: 'owner',
  enableNotifications: 'Enable notifications',
  mentionedYou: (user: string, room: string) => `${user} mentioned you in ${room}`,
  newDirect: (user: string) => `${user} sent you a message`,
  backToRooms: 'Back to rooms',
  error: 'Something went wrong',
  sessionEnded: 'Your session ended: sign in again.',
};

export type Dictionary = typeof en;

const zh: Dictionary = {
  appName: 'Parley',
  locale: 'zh-Hans',
  username: '用户名',
  password: '密码',
  signIn: '登录',
  signUp: '注册',
  signOut: '退出登录',
  signInTitle: '登录 Parley',
  authHint: '第一次使用？请选择用户名（3–32 个字母、数字或 _ . -）和密码（至少 8 个字符），然后点击注册。',
  language: '语言',
  rooms: '聊天室',
  invitations: '邀请',
  noRooms: '还没有聊天室：新建一个，或浏览聊天室目录。',
  newRoom: '新建聊天室',
  roomName: '聊天室名称',
  privateRoom: '私密（仅限邀请）',
  create: '创建',
  cancel: '取消',
  close: '关闭',
  directory: '浏览聊天室',
  searchRooms: '搜索聊天室',
  join: '加入',
  joined: '已加入',
  members: '成员',
  memberCount: (n) => `${n} 位成员`,
  directMessage: '私信',
  findPeople: '查找用户',
  invite: '邀请',
  inviteTo: (user) => `邀请 ${user}`,
  invited: (user) => `已邀请 ${user}`,
  messageUser: (user) => `私信 ${user}`,
  search: '搜索',
  searchQuery: '搜索内容',
  noResults: '没有结果',
  message: '消息',
  messagePlaceholder: (room) => `发送消息到 #${room}`,
  send: '发送',
  sending: '发送中…',
  edited: '已编辑',
  deleted: '此消息已删除。',
  edit: '编辑',
  save: '保存',
  delete: '删除',
  reply: '回复',
  replyingTo: (user) => `回复 ${user}`,
  react: (emoji) => `回应 ${emoji}`,
  reactions: '回应',
  reactionCount: (emoji, n) => `${emoji} ${n}`,
  loadOlder: '加载更早的消息',
  loadNewer: '加载更新的消息',
  beginning: '这是聊天室的开始。',
  typing: (names) => `${names.join('、')} 正在输入…`,
  unread: (n) => `${n} 条未读`,
  mentions: (n) => `${n} 条提及`,
  listSeparator: '，',
  pickRoom: '在左侧选择一个聊天室，或新建一个。',
  leave: '离开聊天室',
  status: {
    connecting: '正在连接…',
    connected: '已连接',
    reconnecting: '正在重新连接…',
    offline: '离线：正在重新连接…',
    closed: '已断开',
  },
  pendingCount: (n) => `${n} 条等待发送`,
  presence: { ONLINE: '在线', AWAY: '离开', OFFLINE: '离线' },
  owner: '创建者',
  enableNotifications: '开启通知',
  mentionedYou: (user, room) => `${user} 在 ${room} 中提到了你`,
  newDirect: (user) => `${user} 给你发了一条消息`,
  backToRooms: '返回聊天室列表',
  error: '出错了',
  sessionEnded: '会话已结束：请重新登录。',
};

export const DICTIONARIES: Record<Language, Dictionary> = { en, zh };

const LANGUAGE_KEY = 'parley.language';

/** The saved choice, else the browser's first language that is Chinese or English. */
export function initialLanguage(): Language {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    if (/^zh\b/i.test(tag)) return 'zh';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return 'en';
}

export function saveLanguage(language: Language): void {
  localStorage.setItem(LANGUAGE_KEY, language);
  document.documentElement.lang = language === 'zh' ? 'zh-Hans' : 'en';
}

export const I18nContext = createContext<Dictionary>(en);

/** The current language's strings. */
export function useT(): Dictionary {
  return useContext(I18nContext);
}
