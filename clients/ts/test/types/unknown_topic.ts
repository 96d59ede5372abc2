// expect: Argument of type '"prices"' is not assignable to parameter of type '"presence" | "announcements"'
import { user } from "./common.js";

user().subscribe("prices", () => {});
