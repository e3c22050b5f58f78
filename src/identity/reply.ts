// The reply address is identity's concept; its shape is declared with the column that stores it.
export { replyTargetSchema, type ReplyTarget } from '../db/schema/shapes.js';
