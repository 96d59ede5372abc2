// expect: Type 'JoinReply' is not assignable to type 'SendReply'
import type { SendReply } from "@gen/chat/chat_pb.js";
import { user } from "./common.js";

export const reply: Promise<SendReply> = user().join({ room: "lobby" });
