// Schemas shared by every route group.
import { t } from "elysia";

export const errorModel = t.Object({
  error: t.String({ description: "A sentence saying what went wrong" }),
  code: t.String({ description: "snake_case code, e.g. not_found, bad_request, too_large" }),
});

export const okText = t.String({ description: "The text OK" });
