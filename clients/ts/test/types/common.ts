// What every case starts from: a client of each role (never connected: type checks only).
import { ChatAgentClient, ChatUserClient } from "@gen/chat/chat.superline.js";

const options = { url: "ws://127.0.0.1:1/", params: { name: "t" } };
export const user = (): ChatUserClient => new ChatUserClient(options);
export const agent = (): ChatAgentClient => new ChatAgentClient(options);
