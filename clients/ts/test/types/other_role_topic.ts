// expect: Argument of type '"announcements"' is not assignable to parameter of type '"presence"'
import { agent } from "./common.js";

agent().subscribe("announcements", () => {});
