// expect: Object literal may only specify known properties, and 'text' does not exist
import { user } from "./common.js";

user().typing({ room: "lobby", text: "typing carries no text" });
