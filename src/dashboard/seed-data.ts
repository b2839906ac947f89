// Fake but realistic records for the seed generator: users, products, orders, sessions, books and companies, by faker.
import { Faker, base, en } from "@faker-js/faker";
import { SEED_COUNT_MAX, SEED_COUNT_MIN } from "./seed-limits.ts";

export interface SeedRecord {
  readonly key: string;
  readonly value: string;
}

type Maker = (faker: Faker) => { prefix: string; value: unknown };

/** Each kind writes JSON, as an application would; the key prefix says what the record is. */
const KINDS: readonly Maker[] = [
  (f) => ({
    prefix: "user",
    value: { name: f.person.fullName(), email: f.internet.email().toLowerCase(), city: f.location.city(), country: f.location.country(), joined: f.date.past({ years: 5 }).toISOString().slice(0, 10) },
  }),
  (f) => ({
    prefix: "product",
    value: { name: f.commerce.productName(), department: f.commerce.department(), price: Number(f.commerce.price({ min: 2, max: 900 })), stock: f.number.int({ min: 0, max: 500 }) },
  }),
  (f) => ({
    prefix: "order",
    value: { customer: f.person.fullName(), items: f.number.int({ min: 1, max: 9 }), total: Number(f.commerce.price({ min: 5, max: 2500 })), status: f.helpers.arrayElement(["pending", "paid", "shipped", "delivered"]) },
  }),
  (f) => ({ prefix: "session", value: { user: f.internet.username(), ip: f.internet.ipv4(), agent: f.internet.userAgent(), expires: f.date.soon({ days: 14 }).toISOString() } }),
  (f) => ({ prefix: "book", value: { title: f.book.title(), author: f.book.author(), genre: f.book.genre(), publisher: f.book.publisher(), pages: f.number.int({ min: 80, max: 1200 }) } }),
  (f) => ({ prefix: "company", value: { name: f.company.name(), slogan: f.company.catchPhrase(), employees: f.number.int({ min: 3, max: 20_000 }) } }),
];

/** Key suffixes are drawn again on a collision; this many draws in a row without a fresh one means the generator is broken. */
const DRAWS_MAX = 100;

/** `count` records with distinct keys; the same seed and clock give the same records (dates are relative to `nowMs`). */
export function seedRecords(count: number, seed: number, nowMs: number = Date.now()): SeedRecord[] {
  if (!Number.isInteger(count) || count < SEED_COUNT_MIN || count > SEED_COUNT_MAX) {
    throw new RangeError(`count must be an integer from ${SEED_COUNT_MIN} to ${SEED_COUNT_MAX}, got ${count}`);
  }
  const faker = new Faker({ locale: [en, base], seed });
  faker.setDefaultRefDate(nowMs);
  const keys = new Set<string>();
  const records: SeedRecord[] = [];
  while (records.length < count) {
    const { prefix, value } = faker.helpers.arrayElement(KINDS)(faker);
    let key = "";
    for (let draw = 0; draw < DRAWS_MAX && (key === "" || keys.has(key)); draw++) {
      key = `${prefix}:${faker.string.alphanumeric({ length: 8, casing: "lower" })}`;
    }
    if (keys.has(key)) throw new Error(`no fresh key after ${DRAWS_MAX} draws`);
    keys.add(key);
    records.push({ key, value: JSON.stringify(value) });
  }
  return records;
}
