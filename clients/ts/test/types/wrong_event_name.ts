// expect: Argument of type '"messages"' is not assignable to parameter of type '"message" | "userTyping"'
import { user } from "./common.js";

user().on("messages", () => {});
