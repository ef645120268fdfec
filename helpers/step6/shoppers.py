"""Step 6: simulated shoppers, whose tastes are defined on the catalog's metadata and pixels.

Nothing here reads the course's embeddings, so a recommender that does well on these shoppers
learned something about them, not about itself. Each shopper draws

- **semantics**: two or three liked subgroups ("animal-mammal", "food-fruit"), and a smaller liking
  for the rest of their groups;
- **appearance**: a colour palette, a preference over the pictures' colour profiles
  (:func:`colour_profiles`: eight hues, dark and light, from the pixels);
- **a price range**, and the whole population shares a **popularity bias**: a seeded popularity
  per item, as in any shop, that pulls every shopper towards the best sellers.

Their sum is the shopper's **utility** for each item. A shopper's history is drawn from it with
Gumbel noise (the Plackett-Luce model: the items with the largest utility plus noise, in order),
so the true utility is known and ranking by it is the **oracle** a recommender can be held to.

Time: the new items (cold start) go on sale when the training period ends; each shopper's last
purchases are the test, and every purchase of a new item is in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers import pixels
from helpers.step6.catalog import Catalog

HUES = 8  # hue bins, then dark and light (colourless pixels)
COLOURFUL = (0.25, 0.2)  # a pixel has a hue if its saturation and value pass these
SUBGROUP_MIN_ITEMS = 8  # a shopper's liked subgroups have at least this many old items
SEMANTIC_WEIGHT, GROUP_WEIGHT = 2.0, 0.7  # liked subgroup; another subgroup of a liked group
APPEARANCE_WEIGHT = 2.0  # times the palette's affinity to a picture's colours (0 to 1)
PRICE_WEIGHT = 0.5  # an item within the shopper's price range
POPULARITY_WEIGHT = 1.0  # times log-popularity scaled to [-1, 0]
TEMPERATURE = 0.3  # of the Gumbel noise: lower, more predictable shoppers
TRAIN_DAYS, TEST_DAYS = 90.0, 30.0


def colour_profiles(catalog: Catalog) -> np.ndarray:
    """Each item's picture as a colour profile (N, 10): the share of its opaque pixels in each of
    :data:`HUES` hue bins, then dark and light colourless pixels. Computed from pixels only."""
    import matplotlib.colors as mcolors

    rgba = pixels.load_rgba(catalog.items).numpy()  # (N, 4, 64, 64) in [0, 1]
    hsv = mcolors.rgb_to_hsv(rgba[:, :3].transpose(0, 2, 3, 1))
    hue, saturation, value = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    alpha = rgba[:, 3]
    colourful = (saturation > COLOURFUL[0]) & (value > COLOURFUL[1])
    bins = np.where(colourful, np.minimum((hue * HUES).astype(int), HUES - 1), np.where(value <= 0.5, HUES, HUES + 1))
    profiles = np.zeros((len(catalog.items), HUES + 2))
    for n in range(len(catalog.items)):
        profiles[n] = np.bincount(bins[n].ravel(), weights=alpha[n].ravel(), minlength=HUES + 2)
    profiles[~catalog.has_picture] = 1.0  # no picture, no colour preference either way
    return profiles / profiles.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Shoppers:
    """The drawn tastes, one row per shopper."""

    liked_subgroups: list[tuple[str, ...]]
    palettes: np.ndarray  # (U, 10), each a distribution over colour bins
    price_ranges: np.ndarray  # (U, 2) euros, low and high


def draw_shoppers(catalog: Catalog, count: int, seed: int) -> Shoppers:
    """``count`` shoppers with seeded tastes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    old = ~catalog.new
    subgroups, sizes = np.unique(
        [item.subgroup for item, o in zip(catalog.items, old, strict=True) if o], return_counts=True
    )
    choices = subgroups[sizes >= SUBGROUP_MIN_ITEMS]
    liked = [tuple(str(s) for s in rng.choice(choices, size=rng.integers(2, 4), replace=False)) for _ in range(count)]
    palettes = rng.dirichlet(np.full(HUES + 2, 0.3), size=count)
    low = np.exp(rng.uniform(np.log(2.0), np.log(40.0), size=count))
    return Shoppers(liked, palettes, np.stack([low, low * rng.uniform(2.0, 6.0, size=count)], axis=1))


def item_popularity(count: int, seed: int) -> np.ndarray:
    """Seeded log-popularity scaled to [-1, 0]: a Zipf-like best-seller list over the items."""
    rank = np.random.default_rng(seed).permutation(count)
    return -np.log1p(rank) / np.log(count)


def utilities(catalog: Catalog, shoppers: Shoppers, colours: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """The (U, N) utility of every item for every shopper: semantics + appearance + price + popularity."""
    subgroup = np.array([item.subgroup for item in catalog.items])
    group = np.array([item.group for item in catalog.items])
    group_of = dict(zip(subgroup, group, strict=True))
    semantic = np.zeros((len(shoppers.liked_subgroups), len(catalog.items)))
    for u, liked in enumerate(shoppers.liked_subgroups):
        in_liked = np.isin(subgroup, liked)
        semantic[u] = SEMANTIC_WEIGHT * in_liked + GROUP_WEIGHT * (
            np.isin(group, [group_of[s] for s in liked]) & ~in_liked
        )
    appearance = APPEARANCE_WEIGHT * (np.sqrt(shoppers.palettes[:, None, :] * colours[None]).sum(-1))
    low, high = shoppers.price_ranges[:, :1], shoppers.price_ranges[:, 1:]
    price = PRICE_WEIGHT * ((catalog.prices >= low) & (catalog.prices <= high))
    return semantic + appearance + price + POPULARITY_WEIGHT * popularity


@dataclass(frozen=True)
class Interactions:
    """Each shopper's history, oldest first: training (old items only) and test (any item), with days."""

    train: list[np.ndarray]  # item rows
    test: list[np.ndarray]
    train_days: list[np.ndarray]
    test_days: list[np.ndarray]

    def hold_out(self, count: int) -> Interactions:
        """A validation split inside the training period: each shopper's last ``count`` training
        interactions become the test (for tuning weights without looking at the test)."""
        return Interactions(
            [t[:-count] for t in self.train],
            [t[-count:] for t in self.train],
            [d[:-count] for d in self.train_days],
            [d[-count:] for d in self.train_days],
        )


def simulate(utility: np.ndarray, new: np.ndarray, purchases: int, test: int, seed: int) -> Interactions:
    """Draw each shopper's ``purchases`` from ``utility`` and split them by time.

    The items bought are the first of a Plackett-Luce draw (utility / :data:`TEMPERATURE` plus Gumbel
    noise), a new item being on sale, and so bought, only with the test period's share of the time.
    An old item is bought on a day anywhere in the two periods, a new one in the test period. The
    last ``test`` purchases are the test, and earlier ones too where a new item was bought earlier,
    so that no new item is ever in training. No item is bought twice."""
    rng = np.random.default_rng(seed)
    on_sale = TEST_DAYS / (TRAIN_DAYS + TEST_DAYS)
    train, held, train_days, test_days = [], [], [], []
    for row in utility:
        available = ~new | (rng.random(row.size) < on_sale)
        noisy = np.where(available, row / TEMPERATURE + rng.gumbel(size=row.size), -np.inf)
        bought = np.argsort(-noisy, kind="stable")[:purchases]
        days = np.where(
            new[bought],
            rng.uniform(TRAIN_DAYS, TRAIN_DAYS + TEST_DAYS, purchases),
            rng.uniform(0.0, TRAIN_DAYS + TEST_DAYS, purchases),
        )
        order = np.argsort(days, kind="stable")
        bought, days = bought[order], days[order]
        first_new = np.flatnonzero(new[bought])
        cut = min(purchases - test, first_new[0] if first_new.size else purchases)
        train.append(bought[:cut])
        held.append(bought[cut:])
        train_days.append(days[:cut])
        test_days.append(days[cut:])
    return Interactions(train, held, train_days, test_days)
