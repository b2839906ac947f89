// Bounds of the seed generator, apart from the generator itself so the page can check a count without loading faker.
export const SEED_COUNT_MIN = 1;
export const SEED_COUNT_MAX = 1000;
