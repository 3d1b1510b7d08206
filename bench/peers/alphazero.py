#!/usr/bin/python3
"""PyTorch peer of `benchtop run alphazero game=tictactoe`: the same self-play training, timed.

Setting (Silver et al., Nature 2017 / Science 2018; src/benchtop/search/alphazero.cc, mcts.cc):
tic-tac-toe, the position encoded as 18 floats (the stones of the player to move, then the
opponent's). A policy-value MLP 18-64-64 (ReLU) with a policy head Linear(64, 9) and a value head
tanh(Linear(64, 1)), torch's default init. Each move runs PUCT search (--simulations, c_puct 1.5):
the root is evaluated and expanded (priors: softmax of the logits over the legal moves), Dirichlet
noise (alpha 1, weight 0.25) is mixed into the root priors, a leaf is scored by the game's result
when it is over and otherwise by the network (then expanded), and values are backed up negated at
each level. Self-play samples moves in proportion to visits for the first 4 plies, then takes the
most visited. Training alternates rounds of 50 self-play games with 50 AdamW steps (lr 2e-3,
weight decay 1e-4) on minibatches of 64 drawn with replacement from the last 5000 positions, each
under a random one of the board's 8 symmetries; loss = policy cross-entropy against the visit
distribution (illegal moves masked) + (v - z)^2, both averaged over the batch.

The network is evaluated one position at a time under torch.no_grad(), as a plain unbatched
implementation does; the game and the tree are plain Python. Random streams are Python's and
torch's, not benchtop's, so the games themselves differ. One thread.

  /usr/bin/python3 bench/peers/alphazero.py [--games 200] [--simulations 25] [--seed 0] [--eval]
      [--threads 1]

Prints the wall time of the training (self-play plus Adam steps) and its split. --eval then plays
the trained network's search (no noise, the most visited move) against a perfect minimax player,
--eval-games per seat, and prints its losses, draws and wins (not part of the timing).
"""
import argparse
import math
import os
import random
import time
from collections import deque

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
C_PUCT = 1.5
DIRICHLET_ALPHA, DIRICHLET_EPS = 1.0, 0.25
TEMP_MOVES = 4
GAMES_PER_ROUND, TRAIN_STEPS, BATCH, BUFFER = 50, 50, 64, 5000
LR, WEIGHT_DECAY = 2e-3, 1e-4


# ---- tic-tac-toe ---------------------------------------------------------------------------------

class State:
    """cells: 0 empty, 1 X, 2 O; to_move: 0 (X) or 1 (O); last: the last move or -1."""

    __slots__ = ("cells", "to_move", "plies", "last")

    def __init__(self, cells=None, to_move=0, plies=0, last=-1):
        self.cells = cells if cells is not None else [0] * 9
        self.to_move, self.plies, self.last = to_move, plies, last

    def play(self, a):
        cells = self.cells[:]
        cells[a] = self.to_move + 1
        return State(cells, 1 - self.to_move, self.plies + 1, a)

    def legal_moves(self):
        return [a for a in range(9) if self.cells[a] == 0]

    def outcome(self):
        """'won' (by the last mover), 'draw' or None (ongoing)."""
        if self.last >= 0:
            p = self.cells[self.last]
            for line in LINES:
                if self.last in line and all(self.cells[c] == p for c in line):
                    return "won"
        return "draw" if self.plies == 9 else None

    def encode(self):
        own = self.to_move + 1
        return [1.0 if v == own else 0.0 for v in self.cells] + [1.0 if v and v != own else 0.0 for v in self.cells]


def square_maps():
    """The 8 symmetries of the 3x3 board (identity first): cell c goes to m[c]."""
    maps = []
    for flip in range(2):
        for rot in range(4):
            m = [0] * 9
            for r in range(3):
                for c in range(3):
                    rr, cc = r, (2 - c if flip else c)
                    for _ in range(rot):  # rotate 90 degrees clockwise
                        rr, cc = cc, 2 - rr
                    m[r * 3 + c] = rr * 3 + cc
            maps.append(m)
    return maps


# ---- network and search --------------------------------------------------------------------------

class PolicyValueNet(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.l1, self.l2 = nn.Linear(18, hidden), nn.Linear(hidden, hidden)
        self.policy, self.value = nn.Linear(hidden, 9), nn.Linear(hidden, 1)

    def forward(self, x):
        h = F.relu(self.l2(F.relu(self.l1(x))))
        return self.policy(h), torch.tanh(self.value(h)).squeeze(-1)


def evaluate(net, s):
    """Priors over the moves (softmax of the legal logits) and the value for the player to move.
    One position per forward pass, as a straightforward unbatched implementation does; the caller
    holds torch.no_grad()."""
    logits, v = net(torch.tensor([s.encode()]))
    logits = logits[0].tolist()
    legal = s.legal_moves()
    top = max(logits[a] for a in legal)
    w = {a: math.exp(logits[a] - top) for a in legal}
    total = sum(w.values())
    return {a: x / total for a, x in w.items()}, v.item()


class Node:
    __slots__ = ("state", "parent", "action", "children", "visits", "value_sum", "prior")

    def __init__(self, state, parent=None, action=-1, prior=0.0):
        self.state, self.parent, self.action, self.prior = state, parent, action, prior
        self.children = []
        self.visits = 0
        self.value_sum = 0.0  # from the view of the player who moved into this node

    def expand(self, priors):
        self.children = [Node(self.state.play(a), self, a, priors[a]) for a in self.state.legal_moves()]

    def select(self):
        sqrt_n = math.sqrt(max(1, self.visits))
        best, best_score = None, -math.inf
        for c in self.children:  # ties: the first in move order
            q = c.value_sum / c.visits if c.visits else 0.0
            score = q + C_PUCT * c.prior * sqrt_n / (1 + c.visits)
            if score > best_score:
                best, best_score = c, score
        return best


def search(net, root_state, simulations, rng, noise):
    """PUCT search; the visit count of each of the 9 moves."""
    root = Node(root_state)
    priors, _ = evaluate(net, root_state)
    root.expand(priors)
    if noise:
        g = [rng.gammavariate(DIRICHLET_ALPHA, 1.0) for _ in root.children]
        total = sum(g)
        for c, x in zip(root.children, g):
            c.prior = (1 - DIRICHLET_EPS) * c.prior + DIRICHLET_EPS * x / total
    for _ in range(simulations):
        node = root
        while node.children:
            node = node.select()
        result = node.state.outcome()
        if result is not None:  # for the player to move at the leaf
            v = -1.0 if result == "won" else 0.0
        else:
            priors, v = evaluate(net, node.state)
            node.expand(priors)
        while node is not None:
            node.visits += 1
            node.value_sum -= v
            v = -v
            node = node.parent
    visits = [0] * 9
    for c in root.children:
        visits[c.action] = c.visits
    return visits


def choose_move(visits, sample, rng):
    if sample:
        return rng.choices(range(9), weights=visits)[0]
    return max(range(9), key=lambda a: (visits[a], -a))  # the most visited, the first on ties


def self_play_game(net, simulations, rng):
    """(encoding, visit distribution, legal mask, outcome for the mover) of every position."""
    s, positions, movers = State(), [], []
    while s.outcome() is None:
        visits = search(net, s, simulations, rng, noise=True)
        total = sum(visits)
        positions.append((s.encode(), [n / total for n in visits], [c == 0 for c in s.cells]))
        movers.append(s.to_move)
        s = s.play(choose_move(visits, s.plies < TEMP_MOVES, rng))
    winner = 1 - s.to_move if s.outcome() == "won" else -1
    return [(x, pi, legal, 0.0 if winner < 0 else 1.0 if winner == m else -1.0)
            for (x, pi, legal), m in zip(positions, movers)]


# ---- training ------------------------------------------------------------------------------------

def train(net, games, simulations, rng):
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    buffer = deque(maxlen=BUFFER)  # the oldest positions drop out
    # Symmetry m sends cell c to m[c]: the transformed board reads the old one at inv[m][j].
    inv = []
    for m in square_maps():
        i = [0] * 9
        for c, t in enumerate(m):
            i[t] = c
        inv.append(i)
    inv = torch.tensor(inv)
    t_play = t_train = 0.0
    played, last_losses = 0, (math.nan, math.nan)
    while played < games:
        n = min(GAMES_PER_ROUND, games - played)
        t0 = time.perf_counter()
        net.eval()
        with torch.no_grad():
            for _ in range(n):
                buffer.extend(self_play_game(net, simulations, rng))
        played += n
        t1 = time.perf_counter()
        net.train()
        pl = vl = 0.0
        for _ in range(TRAIN_STEPS):
            batch = [buffer[rng.randrange(len(buffer))] for _ in range(BATCH)]
            x = torch.tensor([b[0] for b in batch])
            pi = torch.tensor([b[1] for b in batch])
            legal = torch.tensor([b[2] for b in batch])
            z = torch.tensor([b[3] for b in batch])
            idx = inv[torch.tensor([rng.randrange(8) for _ in range(BATCH)])]  # [B, 9]
            x = torch.cat([x[:, :9].gather(1, idx), x[:, 9:].gather(1, idx)], 1)
            pi, legal = pi.gather(1, idx), legal.gather(1, idx)
            logits, v = net(x)
            ploss = -(pi * F.log_softmax(logits.masked_fill(~legal, -1e9), -1)).sum(1).mean()
            vloss = ((v - z) ** 2).mean()
            opt.zero_grad()
            (ploss + vloss).backward()
            opt.step()
            pl += ploss.item() / TRAIN_STEPS
            vl += vloss.item() / TRAIN_STEPS
        last_losses = (pl, vl)
        t_train += time.perf_counter() - t1
        t_play += t1 - t0
    return t_play, t_train, last_losses


# ---- evaluation against a perfect player ---------------------------------------------------------

_memo = {}


def minimax(s):
    """The game's value for the player to move under perfect play: 1, 0 or -1."""
    key = (tuple(s.cells), s.to_move)
    if key not in _memo:
        best = -2
        for a in s.legal_moves():
            t = s.play(a)
            r = t.outcome()
            v = 1 if r == "won" else 0 if r == "draw" else -minimax(t)
            best = max(best, v)
        _memo[key] = best
    return _memo[key]


def perfect_move(s, rng):
    def value(a):
        t = s.play(a)
        r = t.outcome()
        return 1 if r == "won" else 0 if r == "draw" else -minimax(t)

    moves = s.legal_moves()
    best = max(value(a) for a in moves)
    return rng.choice([a for a in moves if value(a) == best])


def play_perfect(net, simulations, games, net_first, rng):
    """The network's (wins, draws, losses) against the perfect player."""
    w = d = l = 0
    seat = 0 if net_first else 1
    with torch.no_grad():
        for _ in range(games):
            s = State()
            while s.outcome() is None:
                if s.to_move == seat:
                    a = choose_move(search(net, s, simulations, rng, noise=False), False, rng)
                else:
                    a = perfect_move(s, rng)
                s = s.play(a)
            if s.outcome() == "draw":
                d += 1
            elif 1 - s.to_move == seat:
                w += 1
            else:
                l += 1
    return w, d, l


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--games", type=int, default=200)
    ap.add_argument("--simulations", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", action="store_true", help="then play the perfect player in both seats")
    ap.add_argument("--eval-games", type=int, default=100, help="games per seat with --eval")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    net = PolicyValueNet()
    t_play, t_train, (pl, vl) = train(net, a.games, a.simulations, rng)
    threads = f"{a.threads} thread" + ("s" if a.threads != 1 else "")
    print(f"alphazero peer (PyTorch {torch.__version__}, {threads}): {a.games} self-play games, "
          f"{a.simulations} simulations: {t_play + t_train:.1f} s")
    print(f"self-play {t_play:.1f} s, training {t_train:.1f} s; last round: policy loss {pl:.4f}, "
          f"value loss {vl:.4f}", flush=True)
    if a.eval:
        t0 = time.perf_counter()
        net.eval()
        erng = random.Random(a.seed + 1)
        first = play_perfect(net, a.simulations, a.eval_games, True, erng)
        second = play_perfect(net, a.simulations, a.eval_games, False, erng)
        for name, (w, d, l) in (("first", first), ("second", second)):
            print(f"vs perfect player, network {name}: {l} lost, {d} drawn, {w} won of {a.eval_games}")
        print(f"evaluation {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
