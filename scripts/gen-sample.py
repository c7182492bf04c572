#!/usr/bin/env python3
"""Generate the bundled synthetic sample data for persona-eval (data/sample/).

Synthetic, not LaMP: about 30 users per task (lamp1, lamp2m, lamp2n, lamp3) with
planted preferences, so that a personalized method measurably beats a
non-personalized one. Every task is written twice: as our JSONL
(<task>.jsonl, docs/DESIGN.md section 8) and in LaMP's official layout
(<task>_questions.json + <task>_outputs.json, one question per user: the
user's latest test query, with the whole history as profile).

Deterministic: the same --seed gives byte-identical files. Python 3 stdlib only.

    scripts/gen-sample.py [--seed N] [--out DIR] [--quiet]
"""

import argparse
import json
import math
import os
import random
import re
import sys
from collections import Counter
from datetime import date, timedelta

DEFAULT_SEED = 20240611
N_USERS = 30

LABELS = {
    "lamp1": ["[1]", "[2]"],
    "lamp2m": ["sci-fi", "based on a book", "comedy", "action", "twist ending", "dystopia",
               "dark comedy", "classic", "psychology", "fantasy", "romance",
               "thought-provoking", "social commentary", "violence", "true story"],
    "lamp2n": ["food & drink", "sports", "education", "parents", "religion", "travel",
               "business", "crime", "science & technology", "culture & arts",
               "entertainment", "politics", "women", "style & beauty", "healthy living"],
    "lamp3": ["1", "2", "3", "4", "5"],
}

OFFICIAL_TASK = {"lamp1": "LaMP_1", "lamp2m": "LaMP_2M", "lamp2n": "LaMP_2N", "lamp3": "LaMP_3"}
OFFICIAL_LABEL_FIELD = {"lamp2m": "tag", "lamp2n": "category", "lamp3": "score"}

LAMP2M_PREFIX = (
    "Which tag does this movie relate to among the following tags? Just answer with the tag "
    "name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist "
    "ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, "
    "social commentary, violence, true story] description: ")
LAMP2N_PREFIX = (
    "Which category does this article relate to among the following categories? Just answer "
    "with the category name without further explanation. categories: [women, religion, "
    "politics, style & beauty, entertainment, culture & arts, sports, science & technology, "
    "travel, business, crime, education, healthy living, parents, food & drink] article: ")
LAMP3_PREFIX = (
    "What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, "
    "4, or 5 without further explanation. review: ")


def lamp1_input(title, ref1, ref2):
    return ('For an author who has written the paper with the title "%s", which reference is '
            'related? Just answer with [1] or [2] without explanation. [1]: "%s" [2]: "%s"'
            % (title, ref1, ref2))


def split(s):
    return [w.strip() for w in s.split("|") if w.strip()]


# ---------------------------------------------------------------- vocabularies
# Each label: who | does | where | keys. A description takes one phrase from the
# first three slots and a few keys; some slots are swapped for another label's
# phrases, so texts are topical but not trivially separable.

MOVIE = {
    "sci-fi": (
        "a starship engineer|an android nurse|a stranded astronaut|a young physicist|"
        "a rogue AI pilot|a colony botanist|a time traveller|an alien envoy",
        "repairs a failing warp reactor|decodes a signal from deep space|"
        "wakes early from cryosleep|builds a machine that bends time|"
        "tracks a comet carrying alien spores|uploads her memories into a robot|"
        "negotiates first contact|jumps between parallel worlds",
        "aboard an orbital station|on a frozen moon of Jupiter|in a lab under the Arctic ice|"
        "on a generation ship|beyond the edge of the galaxy|in a Martian colony|"
        "inside a quantum computer|at a launch site in the desert",
        "spaceship|galaxy|robot|laser|planet|orbit|cyborg|wormhole|starlight|asteroid|"
        "hologram|android|rocket|cosmic|futuristic|telescope"),
    "based on a book": (
        "a shy governess|an orphaned heir|a country schoolteacher|a Victorian novelist|"
        "a wandering poet|a young scribe|a village librarian|a retired sea captain",
        "inherits a crumbling estate|retraces the chapters of a lost manuscript|"
        "falls in with a circle of writers|keeps a secret diary for decades|"
        "adapts her grandmother's memoir|follows the plot of a famous novel|"
        "returns to the town of his childhood|reads letters hidden in a trunk",
        "in a Yorkshire manor|in nineteenth-century Paris|on a Mississippi riverboat|"
        "in a bookshop in Dublin|across the Russian steppe|in a quiet English parish|"
        "in a boarding school in Scotland|in a sprawling family saga",
        "novel|adaptation|chapter|bestseller|author|manuscript|literary|memoir|trilogy|"
        "narrator|prose|epilogue|library|publisher|classic novel|saga"),
    "comedy": (
        "a clumsy wedding planner|a hopeless roommate|a substitute gym teacher|"
        "a failed stand-up comic|an overeager intern|a grumpy mall Santa|"
        "a dog with a talent for chaos|a bachelor on a road trip",
        "accidentally books two weddings on the same day|swaps lives with a pop star|"
        "tries to win back a goat|pretends to be a celebrity chef|"
        "loses the family minivan in Las Vegas|fakes a British accent for a job|"
        "starts a band with the neighbours|hides a pony in a tiny apartment",
        "in a chaotic suburban cul-de-sac|at a disastrous family reunion|"
        "during a hopeless talent show|at a summer camp gone wrong|"
        "in a small diner off the highway|at a very awkward dinner party|"
        "on a cruise ship with no captain|in an office full of pranksters",
        "hilarious|slapstick|prank|goofy|laughs|mishap|sitcom|banter|awkward|silly|"
        "zany|wacky|jokes|giggle|parody|misadventure"),
    "action": (
        "a retired special forces soldier|an undercover cop|a stunt driver|"
        "a former bodyguard|a rogue secret agent|a bomb disposal expert|"
        "a mercenary pilot|a martial arts champion",
        "races to stop a stolen nuclear warhead|fights his way out of a hijacked train|"
        "leads a daring rescue mission|chases a smuggler across rooftops|"
        "takes on an army of henchmen|escapes a collapsing skyscraper|"
        "defuses a bomb with seconds to spare|battles a cartel alone",
        "through the streets of Hong Kong|on a speeding freight train|"
        "in a hidden mountain fortress|across the Sahara|on an oil rig in a storm|"
        "inside a locked-down embassy|along a crowded freeway|in a military base at night",
        "explosion|chase|shootout|gunfight|helicopter|stunt|fistfight|adrenaline|"
        "ambush|mission|hostage|sniper|showdown|commando|pursuit|blast"),
    "twist ending": (
        "a grieving widower|a night-shift nurse|a man with no memory|a quiet babysitter|"
        "an insurance investigator|a famous magician|a small-town sheriff|"
        "a woman who receives strange letters",
        "slowly realizes nothing is what it seems|uncovers a secret that changes everything|"
        "discovers he has been dead all along|learns her twin never existed|"
        "follows clues that lead back to himself|finds the final message too late|"
        "suspects everyone except the real culprit|unravels a perfect illusion",
        "in an isolated lighthouse|in a house full of locked rooms|"
        "in a sleepy coastal village|during one long stormy night|"
        "in a motel off an empty road|at a hospital where patients vanish|"
        "inside a theatre before the final act|in a town with no exits",
        "twist|reveal|shocking|surprise|unexpected|mystery|clue|puzzle|illusion|deception|"
        "secret|finale|unreliable|enigma|misdirection|revelation"),
    "dystopia": (
        "a rebel courier|a factory worker|a young citizen|a banned poet|"
        "a census officer|a surveillance technician|a resistance leader|a runaway clone",
        "defies the all-seeing government|joins an underground resistance|"
        "escapes the rationing districts|questions the official history|"
        "smuggles books past the censors|refuses the mandatory memory wipe|"
        "exposes the lottery that decides who lives|breaks out of a walled city",
        "in a totalitarian future state|in a flooded megacity|in a world without seasons|"
        "behind the great wall of the regime|in a society ruled by algorithms|"
        "in the ruins after the collapse|in a city where emotions are illegal|"
        "under constant surveillance",
        "regime|oppression|surveillance|totalitarian|rebellion|propaganda|apocalypse|"
        "wasteland|ration|curfew|censorship|uprising|authoritarian|bleak|controlled|dictator"),
    "dark comedy": (
        "a bored funeral director|an incompetent hitman|a family of con artists|"
        "a cynical hotel manager|a bickering undertaker|a hapless kidnapper|"
        "a vengeful grandmother|a dentist with a dark hobby",
        "tries to hide a body during a dinner party|botches a simple robbery|"
        "plots revenge with absurd results|stages his own funeral|"
        "runs a business selling fake alibis|poisons the wrong guest|"
        "covers up one accident with another|inherits a cursed family fortune",
        "in a gloomy seaside town|at a funeral home on the brink of bankruptcy|"
        "in a snowbound motel|at a country club full of liars|"
        "during a very bad holiday|in a bleak suburban cul-de-sac|"
        "on a sinking cruise|in a crumbling family mansion",
        "morbid|macabre|absurd|satire|cynical|deadpan|irony|grim|sardonic|twisted|"
        "mischief|farce|gallows|bizarre|crooked|wry"),
    "classic": (
        "a young reporter|a charming gentleman thief|a small-town lawyer|"
        "a singing nun|a lonely drifter|a glamorous actress|a stern butler|"
        "a kind-hearted tramp",
        "falls in love with a runaway princess|fights for justice in a racist town|"
        "searches for meaning in a fading empire|dances through a golden age musical|"
        "wins the heart of a haughty heiress|stands up to a corrupt senator|"
        "waits for a train that never comes|sings in the rain",
        "in black-and-white Hollywood|in postwar Rome|in Casablanca during the war|"
        "on the streets of old Manhattan|in a Technicolor musical|"
        "in a grand ballroom|in a silent film era studio|in Vienna after the war",
        "timeless|masterpiece|golden|vintage|legendary|iconic|elegant|black-and-white|"
        "Oscar|beloved|monochrome|studio|matinee|nostalgic|screwball|Hollywood"),
    "psychology": (
        "a troubled psychiatrist|a patient with split personalities|a grieving mother|"
        "an obsessive pianist|a sleepless machinist|a gifted but fragile student|"
        "a hypnotist|a lonely teenager",
        "confronts buried childhood trauma|loses grip on what is real|"
        "fakes insanity to escape prison|spirals into obsession|"
        "questions every memory in therapy|battles paranoia and guilt|"
        "studies the mind of a killer|hears voices that know her secrets",
        "inside a mental ward|during weeks of insomnia|in the mind of a patient|"
        "at a remote psychiatric clinic|in a string of sessions with a therapist|"
        "in a fractured family home|inside a recurring nightmare|in a silent apartment",
        "mind|trauma|obsession|paranoia|therapy|memory|anxiety|subconscious|identity|"
        "madness|neurosis|delusion|insomnia|psyche|compulsion|breakdown"),
    "fantasy": (
        "a young wizard|an exiled elf princess|a farm boy with a magic sword|"
        "a dragon rider|a witch's apprentice|a cursed knight|a talking fox|"
        "a dwarf blacksmith",
        "sets out to destroy an ancient ring|battles an evil sorcerer|"
        "discovers a portal to an enchanted kingdom|tames a wild dragon|"
        "breaks a centuries-old curse|searches for a lost crown|"
        "learns forbidden spells|defends the realm from shadow creatures",
        "in a realm of castles and dragons|in an enchanted forest|"
        "across the misty mountains|in a hidden school of magic|"
        "in a kingdom beneath the sea|at the edge of the fairy lands|"
        "in a land of giants|inside a wizard's tower",
        "magic|wizard|dragon|sorcery|enchanted|elves|quest|spell|kingdom|mythical|prophecy|"
        "amulet|potion|realm|goblin|fairy"),
    "romance": (
        "a florist in Paris|a widowed baker|a rival chef|a shy bookseller|"
        "a travelling violinist|a young bride-to-be|an architect's fiancée|"
        "a lifeguard on holiday",
        "falls for a stranger on a train|meets her first love again|"
        "writes letters to a soldier overseas|shares one summer in Provence|"
        "must choose between two suitors|rediscovers love after loss|"
        "plans a wedding that goes astray|flirts across a crowded café",
        "in a sunlit village in Italy|during a rainy spring in Paris|"
        "at a seaside café|on a long summer holiday|in a vineyard at harvest time|"
        "across two continents|in a snowy mountain lodge|at a wedding in Provence",
        "love|romantic|kiss|heart|passion|courtship|wedding|sweetheart|lovers|affection|"
        "tender|valentine|soulmate|date|longing|embrace"),
    "thought-provoking": (
        "an ageing philosopher|a village doctor|a young monk|a chess prodigy|"
        "a climate scientist|a retired judge|a refugee child|an amnesiac painter",
        "asks what makes a life worth living|confronts a moral dilemma with no right answer|"
        "questions free will and fate|wrestles with the meaning of faith|"
        "lives the same day again and again|weighs one life against many|"
        "reflects on memory and identity|searches for truth in silence",
        "in a quiet mountain monastery|in a city on the eve of change|"
        "during a long winter of reflection|in a courtroom over one decision|"
        "in a small hospital at night|in a world that forgot how to dream|"
        "on a train across Europe|at the end of a long life",
        "meaning|existential|philosophy|ethics|reflection|contemplative|profound|moral|"
        "dilemma|conscience|mortality|introspective|meditative|questions|wisdom|insight"),
    "social commentary": (
        "a single mother|a factory union leader|a teenage activist|a migrant worker|"
        "a newspaper editor|a housing inspector|a public school teacher|a janitor",
        "fights eviction from her apartment|exposes inequality in a rich suburb|"
        "organizes a strike against the bosses|challenges racism in her town|"
        "struggles to pay the medical bills|reports on corruption at city hall|"
        "documents the lives of the working poor|stands up to a powerful corporation",
        "in a divided American city|in a struggling mill town|in a gentrifying neighbourhood|"
        "in the shadow of a factory|in a crowded housing project|"
        "in a town built on one industry|at a failing public school|in a segregated suburb",
        "inequality|class|racism|injustice|poverty|society|privilege|protest|politics|"
        "satire|discrimination|labor|community|gentrification|welfare|capitalism"),
    "violence": (
        "a brutal gang enforcer|a vengeful ex-convict|a cartel assassin|a psychopathic drifter|"
        "a corrupt sheriff|a teenage gang member|a bare-knuckle boxer|a serial killer",
        "goes on a bloody rampage of revenge|settles scores with a baseball bat|"
        "wages a savage turf war|tortures a witness for information|"
        "leaves a trail of bodies across the state|massacres a rival crew|"
        "hunts down the men who killed his brother|fights in underground cage matches",
        "in the gritty back alleys of Chicago|in a lawless border town|"
        "in a prison riot|in an abandoned slaughterhouse|across a blood-soaked frontier|"
        "in the drug-ridden projects|in a basement fight club|in a town run by gangsters",
        "brutal|bloody|gore|savage|massacre|carnage|vicious|bloodshed|murder|gang|revenge|"
        "graphic|ruthless|mayhem|slaughter|gritty"),
    "true story": (
        "a real-life pilot|a whistleblower|a civil rights lawyer|a mountain climber|"
        "a wartime codebreaker|a rescue diver|an Olympic runner|a small-town nurse",
        "survives against all odds|exposes a real government scandal|"
        "wins a landmark court case|lands a crippled plane on a river|"
        "cracks an enemy code during the war|leads a miners' rescue|"
        "breaks a record no one believed possible|uncovers a cover-up at a hospital",
        "in 1960s Alabama|during the Second World War|on the Hudson river|"
        "in a Chilean mine|at the 1936 Olympics|on the slopes of Everest|"
        "in a Boston newsroom|during the blitz of London",
        "biopic|true|historical|real|documented|biography|based on true events|inspiring|"
        "heroic|survival|courage|events|history|real-life|memoir|landmark"),
}

NEWS = {
    "food & drink": (
        "a home cook|a pastry chef|a food critic|a winemaker|a street vendor|a barista",
        "shares a recipe for|reviews the best|explains how to pair|ranks ten kinds of|"
        "tests a new way to cook|visits the farm behind",
        "summer salads|sourdough bread|cheap red wine|spicy ramen|a crème brûlée|"
        "vegan burgers|cold brew coffee|grilled vegetables",
        "recipe|kitchen|chef|flavor|dinner|delicious|baking|dessert|restaurant|wine|"
        "cocktail|ingredients|menu|brunch|spices|tasty"),
    "sports": (
        "the quarterback|a star striker|the home team|an Olympic sprinter|the coach|"
        "a rookie pitcher",
        "scores twice in|clinches the title in|is benched before|breaks a record in|"
        "celebrates a comeback in|signs a new contract before",
        "the playoff game|the championship final|a tense overtime|the season opener|"
        "the World Cup qualifier|the marathon",
        "NFL|NBA|league|season|team|playoffs|coach|score|stadium|tournament|championship|"
        "athlete|touchdown|goal|fans|victory"),
    "education": (
        "a high school teacher|the school board|a college student|a principal|"
        "a university president|a kindergarten class",
        "debates new rules for|pushes for reform of|protests rising costs of|"
        "tries a fresh approach to|reports on test scores in|rethinks",
        "standardized testing|student loans|the classroom curriculum|charter schools|"
        "college admissions|summer reading programs",
        "school|students|teachers|classroom|college|university|tuition|curriculum|"
        "learning|exam|campus|literacy|graduation|homework|scholarship|lesson"),
    "parents": (
        "a new mom|a stay-at-home dad|a toddler|a teenage daughter|a family of five|"
        "a grandmother",
        "struggles with|learns a lesson about|shares tips on|laughs through|"
        "writes an open letter about|survives",
        "bedtime battles|the first day of kindergarten|screen time rules|potty training|"
        "a sleepless newborn|raising teenagers",
        "parenting|kids|baby|toddler|mom|dad|children|family|newborn|pregnancy|"
        "motherhood|fatherhood|bedtime|siblings|nursery|daycare"),
    "religion": (
        "a parish priest|a rabbi|an imam|the Pope|a Buddhist monk|a congregation",
        "reflects on|preaches about|leads a prayer for|calls for unity during|"
        "opens the doors of the church to|writes about faith and",
        "the holy month|Easter Sunday|an interfaith service|the meaning of forgiveness|"
        "a pilgrimage to Jerusalem|the Sabbath",
        "faith|church|prayer|god|spiritual|worship|bible|mosque|temple|pastor|sacred|"
        "belief|divine|scripture|ministry|holy"),
    "travel": (
        "a backpacker|a solo traveler|a flight attendant|a family on vacation|"
        "a travel blogger|a cruise passenger",
        "finds the hidden gems of|shares a packing list for|rates the beaches of|"
        "spends a weekend in|explores the markets of|hikes across",
        "Lisbon|the Greek islands|Zürich|a Caribbean resort|Kyoto|national parks|"
        "Patagonia|São Paulo",
        "vacation|flight|hotel|airport|destination|trip|passport|tourist|beach|resort|"
        "luggage|itinerary|airline|cruise|sightseeing|getaway"),
    "business": (
        "a startup founder|the CEO|a Wall Street investor|a small business owner|"
        "the central bank|a retail giant",
        "cuts jobs after|reports record profits from|bets big on|warns shareholders about|"
        "announces a merger with|raises prices because of",
        "the quarterly earnings|a slowing economy|the stock market rally|a new factory|"
        "rising interest rates|the holiday shopping season",
        "company|market|economy|profits|investors|stock|shares|revenue|startup|CEO|"
        "earnings|industry|jobs|sales|trade|corporate"),
    "crime": (
        "a police chief|a detective|a suspect|the district attorney|a jury|the FBI",
        "arrests a man after|investigates|charges two teens in|searches for clues in|"
        "helps convict the gunman in|releases footage of",
        "a deadly shooting|a bank robbery|a string of burglaries|a murder case|"
        "a fraud scheme|a hit-and-run",
        "police|arrested|suspect|shooting|murder|charged|victim|investigation|robbery|"
        "court|prison|homicide|trial|officers|stabbing|sentenced"),
    "science & technology": (
        "NASA|a research team|Apple|a robotics lab|a Google engineer|an astronomer",
        "unveils|discovers|launches|tests a prototype of|publishes a study on|warns about",
        "a new smartphone|a distant exoplanet|self-driving cars|gene editing|"
        "artificial intelligence|a Mars rover",
        "technology|science|research|app|smartphone|data|software|scientists|computer|"
        "internet|robot|space|study|innovation|digital|device"),
    "culture & arts": (
        "a painter|the museum|a poet|a theatre troupe|a sculptor|an orchestra",
        "opens an exhibit on|celebrates|stages a daring new|revives|"
        "publishes a collection about|honors",
        "modern art|Renaissance masters|a Broadway revival|street murals|"
        "a photography retrospective|Shakespeare in the park",
        "art|museum|artist|gallery|painting|exhibition|theater|poetry|sculpture|culture|"
        "literature|opera|ballet|symphony|festival|creative"),
    "entertainment": (
        "a pop star|the Oscar host|a reality TV contestant|a Hollywood actor|a rapper|"
        "the late-night host",
        "teases a new album about|reacts to rumors about|stars in a sequel to|"
        "walks the red carpet at|jokes about|drops a trailer for",
        "the Grammys|a celebrity breakup|the summer blockbuster|the season finale|"
        "a music video|the Emmys",
        "celebrity|movie|music|album|TV|show|Hollywood|star|actor|actress|singer|film|"
        "concert|premiere|episode|fans"),
    "politics": (
        "the president|a senator|Congress|the governor|a voter|the White House",
        "debates|vetoes|campaigns on|faces criticism over|signs a bill on|rallies support for",
        "health care reform|the election|immigration policy|a tax plan|"
        "impeachment|the Supreme Court nominee",
        "election|president|congress|senate|campaign|vote|policy|Republicans|Democrats|"
        "governor|bill|law|administration|candidate|debate|political"),
    "women": (
        "a female CEO|a women's group|a young feminist|a mother of three|"
        "a woman in tech|a women's rights lawyer",
        "speaks out about|fights for|shares her story of|challenges the myth of|"
        "rallies against|writes about",
        "equal pay|workplace harassment|the glass ceiling|body image|"
        "reproductive rights|gender bias",
        "women|feminism|gender|equality|sexism|empowerment|female|harassment|"
        "she|her|ladies|sisterhood|misogyny|girls|rights|womanhood"),
    "style & beauty": (
        "a fashion designer|a makeup artist|a supermodel|a stylist|a celebrity|"
        "a beauty blogger",
        "shows off|shares tips for|debuts|swears by|tries|recommends",
        "the spring collection|a bold red lipstick|the perfect skincare routine|"
        "a runway look|a vintage dress|this season's hairstyles",
        "fashion|style|beauty|makeup|hair|dress|runway|skincare|designer|outfit|"
        "lipstick|model|trend|wardrobe|glamour|chic"),
    "healthy living": (
        "a nutritionist|a yoga teacher|a doctor|a personal trainer|a sleep researcher|"
        "a wellness coach",
        "explains the benefits of|warns about|shares a routine for|recommends|"
        "studies the effects of|debunks myths about",
        "daily walking|meditation|a good night's sleep|stress at work|"
        "mindful eating|strength training",
        "health|wellness|fitness|exercise|yoga|sleep|diet|stress|mindfulness|workout|"
        "weight|healthy|nutrition|meditation|habits|energy"),
}

MOVIE_FRAMES = [
    "{Who} {does} {where}. {Extra}",
    "When trouble strikes, {who} {does} {where}. {Extra}",
    "{Who} {does} {where}, but soon the {k1} turns into {k2}.",
    "Years later, {who} {does} {where}. {Extra}",
]
MOVIE_EXTRAS = [
    "Think {k1}, {k2} and {k3}.",
    "Expect {k1}, {k2} and a little {k3}.",
    "Full of {k1} and {k2}, with some {k3}.",
    "Words that come to mind: {k1}, {k2}, {k3}.",
    "Along the way: {k1}, {k2} and {k3}.",
]
NEWS_FRAMES = [
    "{Who} {does} {where}. {Extra}",
    "This week {who} {does} {where}. {Extra}",
    "{Who} {does} {where}, and readers have opinions. {Extra}",
    "Here is why {who} {does} {where}. {Extra}",
]
NEWS_EXTRAS = [
    "It is a story about {k1}, {k2} and {k3}.",
    "Expect talk of {k1} and {k2} all week.",
    "The debate covers {k1}, {k2} and even {k3}.",
    "Experts say {k1} and {k2} matter most.",
]
NEWS_TITLES = [
    "The {K1} Story Everyone Is Talking About",
    "{K1} and {K2}: What You Need to Know",
    "Why {K1} Matters Now",
    "{K1}, {K2} and the Week Ahead",
    "5 Things About {K1}",
    "The Truth About {K1}",
]

RESEARCH = {
    "graph neural networks": (
        "message passing networks|graph attention|spectral graph convolution|"
        "graph transformers|node embeddings|graph pooling",
        "node classification|link prediction|molecular property prediction|"
        "community detection|knowledge graph completion|traffic forecasting",
        "graph|node|edge|neighborhood|oversmoothing|adjacency|subgraph|homophily|"
        "message|topology"),
    "speech recognition": (
        "end-to-end acoustic models|connectionist temporal classification|"
        "streaming transducers|self-supervised speech encoders|phoneme lattices|"
        "neural beam search",
        "automatic speech recognition|keyword spotting|speaker diarization|"
        "low-resource speech recognition|noisy far-field audio|accent adaptation",
        "speech|acoustic|phoneme|audio|spectrogram|utterance|transcription|"
        "speaker|word error rate|decoder"),
    "databases": (
        "cost-based query optimizers|learned index structures|columnar storage|"
        "multi-version concurrency control|adaptive join algorithms|write-ahead logging",
        "transaction processing|query optimization|join ordering|"
        "cardinality estimation|distributed OLTP|data lake management",
        "query|SQL|index|transaction|relational|join|storage|schema|throughput|"
        "concurrency"),
    "computer vision": (
        "convolutional backbones|vision transformers|contrastive image pretraining|"
        "feature pyramid networks|diffusion priors|optical flow estimators",
        "object detection|semantic segmentation|image classification|"
        "3D reconstruction|pose estimation|video understanding",
        "image|pixel|detection|segmentation|visual|camera|scene|bounding box|"
        "resolution|convolution"),
    "cryptography": (
        "lattice-based signatures|zero-knowledge proofs|homomorphic encryption|"
        "threshold secret sharing|elliptic curve pairings|post-quantum key exchange",
        "secure multiparty computation|private set intersection|"
        "verifiable computation|side-channel resistance|anonymous credentials|"
        "secure messaging",
        "cryptographic|encryption|adversary|key|protocol|proof|cipher|security|"
        "hash|signature"),
    "reinforcement learning": (
        "policy gradient methods|actor-critic agents|model-based planning|"
        "offline Q-learning|intrinsic curiosity rewards|hierarchical options",
        "continuous control|robot manipulation|sparse-reward exploration|"
        "multi-agent coordination|sim-to-real transfer|game playing",
        "reward|policy|agent|environment|exploration|value function|trajectory|"
        "return|Markov|episode"),
    "information retrieval": (
        "dense passage retrievers|learned sparse representations|BM25 baselines|"
        "neural rerankers|query expansion models|click models",
        "ad hoc document ranking|conversational search|personalized search|"
        "question answering over passages|web search evaluation|recommendation",
        "retrieval|ranking|query|document|relevance|search|index|click|passage|"
        "recall"),
    "distributed systems": (
        "Byzantine fault-tolerant consensus|Raft replication|gossip protocols|"
        "erasure-coded storage|serverless schedulers|causal consistency models",
        "geo-replicated storage|fault tolerance|cluster scheduling|"
        "state machine replication|edge computing|stream processing",
        "replica|consensus|latency|node failure|cluster|scheduler|partition|"
        "fault|network|consistency"),
    "natural language processing": (
        "pretrained transformers|sequence-to-sequence models|prompt tuning|"
        "syntactic parsers|multilingual encoders|retrieval-augmented generation",
        "machine translation|named entity recognition|text summarization|"
        "sentiment analysis|dialogue generation|question answering",
        "language|text|token|corpus|sentence|translation|semantic|parsing|"
        "lexical|generation"),
    "computational biology": (
        "protein language models|hidden Markov models|single-cell clustering|"
        "phylogenetic inference|sequence alignment heuristics|gene regulatory networks",
        "protein structure prediction|variant calling|gene expression analysis|"
        "drug-target interaction|metagenomic binning|cell type annotation",
        "protein|genome|sequence|cell|gene|molecular|mutation|expression|biological|"
        "assay"),
}

LAMP1_TITLES = [
    "{Method} for {problem}",
    "Towards Robust {Problem} with {Method}",
    "On the {Prop} of {Method} in {Problem}",
    "Rethinking {Problem}: A Study of {Method}",
    "Scaling {Method} to Large-Scale {Problem}",
    "Efficient {Problem} via {Method} and {Term}",
    "When {Method} Meets {Problem}",
    "Learning {Term} Representations for {Problem}",
]
LAMP1_PROPS = ["Robustness", "Limits", "Efficiency", "Generalization", "Stability",
               "Expressive Power", "Fairness", "Sample Complexity"]
LAMP1_ABSTRACTS = [
    "We study {problem} and propose {method} that exploits {t1} and {t2} structure. "
    "Experiments show clear gains over a naïve baseline.",
    "This paper revisits {problem}. Our approach combines {method} with {t1} signals and "
    "reduces {t2} errors on three benchmarks.",
    "We introduce a {t1}-aware variant of {method} for {problem}. It is simple, scales to "
    "large inputs and improves {t2} quality.",
    "Existing work on {problem} ignores {t1}. We show that {method} with explicit {t2} "
    "modeling closes much of the gap.",
]

PRODUCTS = {
    "kitchen": "blender|coffee maker|frying pan|knife set|toaster|kettle|rice cooker|"
               "cutting board|mixer|crème brûlée torch|lid|handle|blade|nonstick coating",
    "electronics": "headphones|charger|phone case|bluetooth speaker|keyboard|monitor|"
                   "battery|cable|remote|screen|bass|charging port|firmware|adapter",
    "books": "novel|cookbook|paperback|hardcover|biography|thriller|poetry collection|"
             "textbook|chapter|author|plot|ending|characters|pages|print edition|translation",
    "toys": "puzzle|board game|action figure|doll|building set|toy car|stuffed bear|kite|"
            "pieces|kids|batteries|instructions|box|plastic|playtime",
    "beauty": "shampoo|face cream|lipstick|perfume|moisturizer|hair dryer|serum|nail polish|"
              "scent|skin|bottle|pump|brush|texture|formula",
    "outdoor": "tent|backpack|hiking boots|water bottle|flashlight|camping chair|"
               "sleeping bag|hammock|zipper|straps|rain|trail|campsite|weight|fabric",
}
SENTIMENT = {
    1: "terrible|broke after one day|complete waste of money|awful|returned it immediately|"
       "cheap junk|do not buy|worst purchase ever|useless|fell apart",
    2: "disappointing|poor quality|not worth the price|flimsy|barely works|"
       "expected much better|mediocre at best|cheaply made|frustrating|annoying",
    3: "okay|average|does the job|decent but nothing special|mixed feelings|fine for now|"
       "some flaws|acceptable|so-so|middle of the road",
    4: "good|works well|solid|happy with it|nice quality|pretty good value|recommend it|"
       "reliable|pleasant surprise|sturdy",
    5: "excellent|love it|perfect|amazing quality|best purchase this year|highly recommend|"
       "absolutely fantastic|flawless|five stars easily|exceeded expectations",
}
REVIEW_FRAMES = [
    "The {p1}: {s1}. {Extra}",
    "Bought this {p1} for my family. {S1}. The {p2}? {S2}.",
    "{S1}. The {p1} and the {p2}, {s2}.",
    "After a month with the {p1}, my take: {s1}. {Extra}",
    "I wanted a new {p1}. Honestly, {s1}. As for the {p2}: {s2}.",
]
REVIEW_EXTRAS = [
    "Overall, {s2}.",
    "The {p2}: {s2} as well.",
    "Shipping was fast. {S2}.",
    "My verdict: {s2}.",
]
N_PRODUCT_ITEMS = 8  # the first entries of each PRODUCTS list are products, the rest parts


def cap(s):
    return s[:1].upper() + s[1:]


def pick(rng, slots):
    return slots[rng.randrange(len(slots))]


# ---------------------------------------------------------------- dates

def day_dates(rng, n, start, end):
    """n distinct sorted YYYY-MM-DD dates in [start, end]."""
    span = (end - start).days + 1
    days = sorted(rng.sample(range(span), n))
    return [(start + timedelta(days=d)).isoformat() for d in days]


def user_dates(rng, nh, nq, task):
    """History dates then query dates (all strictly after the history)."""
    if task == "lamp1":
        y0 = rng.randint(2005, 2009)
        y1 = rng.randint(2014, 2017)
        hist = sorted(rng.randint(y0, y1) for _ in range(nh))
        qy = sorted(rng.randint(y1 + 1, 2020) for _ in range(nq))
        return [str(y) for y in hist], [str(y) for y in qy]
    start = date(rng.randint(2005, 2010), rng.randint(1, 12), rng.randint(1, 28))
    end = date(rng.randint(2016, 2018), rng.randint(1, 12), rng.randint(1, 28))
    hist = day_dates(rng, nh, start, end)
    last = date.fromisoformat(hist[-1])
    q = day_dates(rng, nq, last + timedelta(days=1), date(2020, 12, 31))
    return hist, q


def history_sizes(rng):
    """Per-user history lengths: mostly 20-80, a few heavy users up to 200."""
    sizes = [rng.randint(20, 80) for _ in range(N_USERS)]
    for i in rng.sample(range(N_USERS), 4):
        sizes[i] = rng.randint(150, 200)
    return sizes


# ---------------------------------------------------------------- label preferences

def pref_weights(rng, labels):
    """A user's favourite labels (2-3) and per-label sampling weights.

    70% of the mass goes to the favourites, 30% spread over all labels. Favourites are
    drawn from a skewed global popularity, so the corpus has a clear global majority
    label that differs from most users' own majority."""
    pop = [1.0 / (1 + i) ** 0.7 for i in range(len(labels))]
    k = rng.choice([2, 2, 3])
    fav = []
    while len(fav) < k:
        lab = rng.choices(labels, weights=pop)[0]
        if lab not in fav:
            fav.append(lab)
    fw = [rng.uniform(1.0, 2.0) for _ in fav]
    w = {lab: 0.30 / len(labels) for lab in labels}
    for lab, x in zip(fav, fw):
        w[lab] += 0.70 * x / sum(fw)
    return fav, [w[lab] for lab in labels]


def slot_phrase(rng, vocab, label, labels, slot, noise):
    if rng.random() < noise:
        label = pick(rng, labels)
    return pick(rng, split(vocab[label][slot]))


def keys(rng, vocab, label, labels, n):
    own = rng.sample(split(vocab[label][3]), n)
    if rng.random() < 0.5:
        other = pick(rng, [x for x in labels if x != label])
        own[-1] = pick(rng, split(vocab[other][3]))
    return own


def topical_text(rng, task, vocab, frames, extras, label):
    """A sentence built from the label's who/does/where phrases plus a few keys."""
    labels = LABELS[task]
    who, does, where = (slot_phrase(rng, vocab, label, labels, i, 0.2) for i in range(3))
    k1, k2, k3 = keys(rng, vocab, label, labels, 3)
    extra = pick(rng, extras).format(k1=k1, k2=k2, k3=k3)
    return pick(rng, frames).format(Who=cap(who), who=who, does=does, where=where,
                                    Extra=extra, k1=k1, k2=k2)


def movie_text(rng, label):
    return topical_text(rng, "lamp2m", MOVIE, MOVIE_FRAMES, MOVIE_EXTRAS, label)


def news_item(rng, label):
    text = topical_text(rng, "lamp2n", NEWS, NEWS_FRAMES, NEWS_EXTRAS, label)
    t1, t2 = rng.sample(split(NEWS[label][3]), 2)
    title = pick(rng, NEWS_TITLES).format(K1=cap(t1), K2=cap(t2))
    return title, text


# ---------------------------------------------------------------- tasks

def gen_classification(rng, task, hist_dates, q_dates):
    labels = LABELS[task]
    fav, w = pref_weights(rng, labels)
    hist, queries = [], []
    for d in hist_dates:
        lab = rng.choices(labels, weights=w)[0]
        hist.append((d, lab, make_fields(rng, task, lab)))
    for d in q_dates:
        lab = rng.choices(labels, weights=w)[0]
        queries.append((d, lab, make_fields(rng, task, lab)))
    return hist, queries


def make_fields(rng, task, lab):
    if task == "lamp2m":
        return {"description": movie_text(rng, lab)}
    title, text = news_item(rng, lab)
    return {"title": title, "text": text}


def gen_rating(rng, hist_dates, q_dates):
    mean = rng.uniform(1.5, 4.8)
    sd = rng.uniform(0.4, 1.0)
    cats = rng.sample(sorted(PRODUCTS), rng.choice([1, 2, 2, 3]))

    def one(d):
        score = min(5, max(1, int(round(rng.gauss(mean, sd)))))
        level = score
        if rng.random() < 0.35:
            level = min(5, max(1, score + rng.choice([-1, 1])))
        prods = split(PRODUCTS[pick(rng, cats)])
        p1 = pick(rng, prods[:N_PRODUCT_ITEMS])
        p2 = pick(rng, [x for x in prods if x != p1])
        s1, s2 = rng.sample(split(SENTIMENT[level]), 2)
        extra = pick(rng, REVIEW_EXTRAS).format(p2=p2, s2=s2, S2=cap(s2))
        text = pick(rng, REVIEW_FRAMES).format(p1=p1, p2=p2, s1=s1, s2=s2, S1=cap(s1),
                                               S2=cap(s2), Extra=extra)
        return (d, str(score), {"text": text})

    return [one(d) for d in hist_dates], [one(d) for d in q_dates]


def paper(rng, area):
    methods, problems, terms = (split(x) for x in RESEARCH[area])
    m, p = pick(rng, methods), pick(rng, problems)
    t1, t2 = rng.sample(terms, 2)
    title = pick(rng, LAMP1_TITLES).format(Method=title_case(m), method=m,
                                           Problem=title_case(p), problem=p,
                                           Prop=pick(rng, LAMP1_PROPS),
                                           Term=title_case(t1))
    abstract = pick(rng, LAMP1_ABSTRACTS).format(problem=p, method=m, t1=t1, t2=t2)
    return title, abstract


def title_case(s):
    return " ".join(w if w[:1].isupper() else cap(w) for w in s.split(" "))


def gen_citation(rng, hist_dates, q_dates):
    areas = sorted(RESEARCH)
    mine = rng.sample(areas, rng.choice([1, 2, 2]))
    hist, queries = [], []
    for d in hist_dates:
        title, abstract = paper(rng, pick(rng, mine))
        hist.append((d, None, {"title": title, "abstract": abstract}))
    for d in q_dates:
        area = pick(rng, mine)
        title = paper(rng, area)[0]
        related = paper(rng, area)[0]
        other = paper(rng, pick(rng, [a for a in areas if a not in mine]))[0]
        if rng.random() < 0.5:
            queries.append((d, "[1]", {"title": title, "ref1": related, "ref2": other}))
        else:
            queries.append((d, "[2]", {"title": title, "ref1": other, "ref2": related}))
    return hist, queries


def query_input(task, f):
    if task == "lamp1":
        # The official parser splits on double quotes; none may appear inside.
        assert not any('"' in f[k] for k in ("title", "ref1", "ref2")), f
        return lamp1_input(f["title"], f["ref1"], f["ref2"])
    if task == "lamp2m":
        return LAMP2M_PREFIX + f["description"]
    if task == "lamp2n":
        return LAMP2N_PREFIX + f["text"]
    return LAMP3_PREFIX + f["text"]


def generate(task, seed):
    rng = random.Random(seed * 10 + ["lamp1", "lamp2m", "lamp2n", "lamp3"].index(task))
    users = []
    for u, nh in enumerate(history_sizes(rng)):
        uid = "u%03d" % (u + 1)
        nq = rng.randint(3, 10)
        hd, qd = user_dates(rng, nh, nq, task)
        if task == "lamp1":
            hist, queries = gen_citation(rng, hd, qd)
        elif task == "lamp3":
            hist, queries = gen_rating(rng, hd, qd)
        else:
            hist, queries = gen_classification(rng, task, hd, qd)
        history = []
        for i, (d, lab, fields) in enumerate(hist):
            item = {"id": "%s-h%d" % (uid, i), "date": d}
            item.update(fields)
            if lab is not None:
                item["label"] = lab
            history.append(item)
        qs = [{"id": "%s-q%d" % (uid, i), "date": d, "input": query_input(task, f),
               "gold": lab} for i, (d, lab, f) in enumerate(queries)]
        users.append({"user": uid, "task": task, "history": history, "queries": qs})
    return users


# ---------------------------------------------------------------- writing

def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def official(task, users, task_index, seed):
    """LaMP official layout: one question per user (the latest query), full history.

    Profile ids follow LaMP's "<question id><index>" pattern, index in time order. As in
    LaMP, profiles are not stored in time order: except for lamp1 (year-only dates, whose
    ties only file order can break) each profile is shuffled, so loaders must sort."""
    rng = random.Random(seed * 10 + 5 + task_index)
    questions, golds = [], []
    for u, user in enumerate(users):
        qid = "%d%03d" % (task_index + 1, u + 1)
        profile = []
        for i, item in enumerate(user["history"]):
            p = {"id": "%s%d" % (qid, i), "date": item["date"]}
            for k, v in item.items():
                if k in ("id", "date", "label"):
                    continue
                p[k] = v
            if "label" in item:
                val = item["label"]
                # A few numeric scores, as some LaMP-3 derived files carry them.
                if task == "lamp3" and u % 10 == 2 and i % 7 == 0:
                    val = int(val)
                p[OFFICIAL_LABEL_FIELD[task]] = val
            profile.append(p)
        if task != "lamp1":
            rng.shuffle(profile)
        q = user["queries"][-1]
        questions.append({"id": qid, "input": q["input"], "profile": profile})
        golds.append({"id": qid, "output": q["gold"]})
    qtext = "[\n" + ",\n".join(dumps(q) for q in questions) + "\n]\n"
    otext = ('{"task":"%s","golds":[\n' % OFFICIAL_TASK[task]
             + ",\n".join(dumps(g) for g in golds) + "\n]}\n")
    return qtext, otext


# ---------------------------------------------------------------- sanity baselines

TOKEN = re.compile(r"[a-z0-9]+")


def tokens(s):
    return TOKEN.findall(s.lower())


class BM25:
    """BM25Okapi (k1=1.5, b=0.75, epsilon=0.25) as in rank_bm25."""

    def __init__(self, docs, k1=1.5, b=0.75, eps=0.25):
        self.k1, self.b = k1, b
        self.docs = [Counter(d) for d in docs]
        self.lens = [len(d) for d in docs]
        self.avg = sum(self.lens) / max(1, len(docs))
        df = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(docs)
        idf = {t: math.log(n - c + 0.5) - math.log(c + 0.5) for t, c in df.items()}
        avg_idf = sum(idf.values()) / max(1, len(idf))
        self.idf = {t: (v if v >= 0 else eps * avg_idf) for t, v in idf.items()}

    def scores(self, q):
        out = []
        for d, ln in zip(self.docs, self.lens):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * ln / self.avg)
            for t in q:
                f = d.get(t, 0)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + norm)
            out.append(s)
        return out


def query_text(task, inp):
    for marker in ("description: ", "article: ", "review: "):
        if marker in inp:
            return inp.split(marker, 1)[1]
    return inp


def item_text(task, item):
    if task == "lamp2n":
        return item["title"] + " " + item["text"]
    if task == "lamp1":
        return item["title"] + " " + item["abstract"]
    return item.get("description", item.get("text", ""))


def mode(labels, order):
    c = Counter(labels)
    return max(order, key=lambda lab: (c[lab], -order.index(lab)))


def knn_vote(bm, hist, q, k=4):
    sc = bm.scores(q)
    top = sorted(range(len(sc)), key=lambda i: (-sc[i], i))[:k]
    votes = Counter()
    for i in top:
        votes[hist[i]["label"]] += 1
    return [hist[i]["label"] for i in top], votes


def sanity(task, users):
    """Accuracy (or MAE) of non-personalized vs personalized baselines on all queries."""
    order = LABELS[task]
    res = {}
    if task == "lamp1":
        hits_major = hits_bm = n = 0
        for user in users:
            bm = BM25([tokens(item_text(task, it)) for it in user["history"]])
            for q in user["queries"]:
                refs = re.findall(r'\[[12]\]: "([^"]*)"', q["input"])
                s = [max(bm.scores(tokens(r))) for r in refs]
                pred = "[1]" if s[0] >= s[1] else "[2]"
                hits_bm += pred == q["gold"]
                hits_major += q["gold"] == "[1]"
                n += 1
        res["majority [1] acc"] = hits_major / n
        res["profile BM25 acc"] = hits_bm / n
        return res
    all_hist = [it["label"] for u in users for it in u["history"]]
    g = mode(all_hist, order)
    tot = {"majority": 0.0, "user-majority": 0.0, "bm25-knn": 0.0}
    n = 0
    for user in users:
        hist = user["history"]
        um = mode([it["label"] for it in hist], order)
        bm = BM25([tokens(item_text(task, it)) for it in hist])
        for q in user["queries"]:
            gold = q["gold"]
            top, votes = knn_vote(bm, hist, tokens(query_text(task, q["input"])))
            if task == "lamp3":
                knn = min(5, max(1, round(sum(float(x) for x in top) / len(top))))
                um_mean = sum(float(it["label"]) for it in hist) / len(hist)
                tot["majority"] += abs(float(g) - float(gold))
                tot["user-majority"] += abs(float(um) - float(gold))
                tot.setdefault("user-mean", 0.0)
                tot["user-mean"] += abs(round(um_mean) - float(gold))
                tot["bm25-knn"] += abs(knn - float(gold))
            else:
                knn = max(votes, key=lambda lab: (votes[lab], -top.index(lab)))
                tot["majority"] += g == gold
                tot["user-majority"] += um == gold
                tot["bm25-knn"] += knn == gold
            n += 1
    metric = "MAE" if task == "lamp3" else "acc"
    for k, v in tot.items():
        res["%s %s" % (k, metric)] = v / n
    res["global majority label"] = g
    return res


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="Generate persona-eval's synthetic sample data.")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "sample"))
    ap.add_argument("--quiet", action="store_true", help="print nothing")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    total = 0
    lines = []
    for ti, task in enumerate(["lamp1", "lamp2m", "lamp2n", "lamp3"]):
        users = generate(task, a.seed)
        files = {"%s.jsonl" % task: "".join(dumps(u) + "\n" for u in users)}
        qtext, otext = official(task, users, ti, a.seed)
        files["%s_questions.json" % task] = qtext
        files["%s_outputs.json" % task] = otext
        nitems = sum(len(u["history"]) for u in users)
        nq = sum(len(u["queries"]) for u in users)
        lines.append("%s: %d users, %d history items (min %d, max %d), %d queries"
                     % (task, len(users), nitems, min(len(u["history"]) for u in users),
                        max(len(u["history"]) for u in users), nq))
        for name, text in files.items():
            data = text.encode("utf-8")
            write(os.path.join(a.out, name), text)
            total += len(data)
            lines.append("  %-24s %9d bytes" % (name, len(data)))
        for k, v in sanity(task, users).items():
            lines.append("  %-24s %s" % (k, ("%.3f" % v) if isinstance(v, float) else v))
    lines.append("total %d bytes (%.2f MB)" % (total, total / 1e6))
    if not a.quiet:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
