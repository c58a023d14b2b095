export { DatabaseModule, DatabaseHealth } from './database.module';
export { createDataSource, ensureDatabase, migrate, MIGRATIONS } from './data-source';
export { MessageRow, MESSAGE_COLUMNS, toMessageView } from './rows';
export { UsersRepository, User } from './repositories/users.repository';
export { ConversationsRepository, Conversation, Membership, directKey } from './repositories/conversations.repository';
export { MessagesRepository, MessagePage } from './repositories/messages.repository';
export { CursorsRepository, MemberCursors } from './repositories/cursors.repository';
