"""The content of the French demo: régies of the network, their people and their equipment.

Régies sit in real cities of the Mouvement des Régies; people, addresses and amounts are
invented. Phone numbers are in the ranges ARCEP keeps for fiction, so none of them rings
anyone. Equipment follows the 36 items of the domain research (deposits from its table;
replacement values, loan lengths and notice are plausible orders of magnitude).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoRegie:
    slug: str
    name: str
    city: str
    postcode: str
    timezone: str
    phone: str
    manager: str  # the « responsable »'s name
    member: str  # a team member's name
    locations: tuple[str, ...]  # where its equipment is kept
    focus: tuple[str, ...]  # category slugs of its main activities, equipped first
    size: int  # how many resources it lends


@dataclass(frozen=True)
class DemoItem:
    name: str
    category: str
    deposit: int  # euros
    replacement_value: int  # euros
    max_loan_days: int
    min_notice_hours: int
    requirements: str
    description: str


PARIS = "Europe/Paris"

REGIES: tuple[DemoRegie, ...] = (
    DemoRegie(
        "vierzon",
        "Régie de Quartier de Vierzon",
        "Vierzon",
        "18100",
        PARIS,
        "02 61 91 18 10",
        "Sylvie Marchand",
        "Karim Haddad",
        ("Écopôle, chemin de la Chaponnière", "Atelier rue des Forges"),
        ("maraichage", "espaces-verts", "batiment", "proprete"),
        14,
    ),
    DemoRegie(
        "agen",
        "Régie de Quartier d'Agen",
        "Agen",
        "47000",
        PARIS,
        "05 36 49 47 00",
        "Jean-Marc Delpech",
        "Aïcha Benali",
        ("Atelier rue Lamouroux", "Local espaces verts, allée des Tilleuls"),
        ("espaces-verts", "zero-phyto", "proprete"),
        12,
    ),
    DemoRegie(
        "paris-19",
        "Régie de Quartier Paris 19e",
        "Paris",
        "75019",
        PARIS,
        "01 99 00 75 19",
        "Fatou Diallo",
        "Lucas Moreau",
        ("Local rue de Crimée", "Cave de la résidence Curial, porte B"),
        ("proprete", "evenementiel", "batiment", "mobilite-douce"),
        12,
    ),
    DemoRegie(
        "le-blanc-mesnil",
        "Régie de Quartier du Blanc-Mesnil",
        "Le Blanc-Mesnil",
        "93150",
        PARIS,
        "01 99 00 93 15",
        "Nadia Bensaïd",
        "Thomas Petit",
        ("Atelier avenue Henri Barbusse", "Local des Tilleuls"),
        ("proprete", "batiment", "evenementiel"),
        11,
    ),
    DemoRegie(
        "la-roche-sur-foron",
        "Régie de Territoire de La Roche-sur-Foron",
        "La Roche-sur-Foron",
        "74800",
        PARIS,
        "04 65 71 74 80",
        "Pierre Duret",
        "Émilie Jacquet",
        ("Hangar zone des Afforêts", "Salle des fêtes, réserve"),
        ("evenementiel", "espaces-verts", "vehicules"),
        12,
    ),
    DemoRegie(
        "laxou",
        "Régie de Quartier de Laxou",
        "Laxou",
        "54520",
        PARIS,
        "03 53 01 54 52",
        "Hélène Colin",
        "Mehdi Zerrouki",
        ("Atelier du plateau de Haye", "Garage rue de la Meuse"),
        ("espaces-verts", "proprete", "manutention"),
        11,
    ),
    DemoRegie(
        "mainvilliers",
        "Régie de Quartier de Mainvilliers",
        "Mainvilliers",
        "28300",
        PARIS,
        "02 61 91 28 30",
        "Olivier Lemaire",
        "Sandrine Hoarau",
        ("Atelier rue de la Résistance", "Jardins familiaux des Bois-Musquets"),
        ("espaces-verts", "maraichage", "vehicules"),
        11,
    ),
    DemoRegie(
        "dole",
        "Régie de Quartier de Dole",
        "Dole",
        "39100",
        PARIS,
        "03 53 01 39 10",
        "Catherine Vuillemin",
        "Yanis Cherif",
        ("Atelier des Mesnils-Pasteur", "Dépôt avenue de Lahr"),
        ("batiment", "espaces-verts", "vehicules"),
        11,
    ),
    DemoRegie(
        "lyon-8",
        "Régie de Quartier Lyon 8e",
        "Lyon",
        "69008",
        PARIS,
        "04 65 71 69 08",
        "Rachid Mansouri",
        "Julie Garnier",
        ("Local boulevard des États-Unis", "Atelier rue Professeur Beauvisage"),
        ("proprete", "mobilite-douce", "evenementiel"),
        12,
    ),
    DemoRegie(
        "grenoble",
        "Régie de Quartier de Grenoble",
        "Grenoble",
        "38000",
        PARIS,
        "04 65 71 38 00",
        "Marion Faure",
        "Samir Belkacem",
        ("Atelier de la Villeneuve", "Jardin partagé Arlequin, abri à outils"),
        ("zero-phyto", "espaces-verts", "mobilite-douce", "maraichage"),
        12,
    ),
    DemoRegie(
        "roubaix",
        "Régie de Quartier de Roubaix",
        "Roubaix",
        "59100",
        PARIS,
        "03 53 01 59 10",
        "Isabelle Vandenbussche",
        "Kevin Delattre",
        ("Atelier rue de l'Alma", "Entrepôt quai de Lorient"),
        ("proprete", "batiment", "manutention", "evenementiel"),
        12,
    ),
    DemoRegie(
        "saint-denis-reunion",
        "Régie de Quartier de Saint-Denis (La Réunion)",
        "Saint-Denis",
        "97400",
        "Indian/Reunion",
        "09 77 40 97 40",
        "Jean-Paul Payet",
        "Marie-Claude Grondin",
        ("Atelier du Chaudron", "Case de quartier de la Bretagne"),
        ("espaces-verts", "maraichage", "zero-phyto", "energie"),
        10,
    ),
    DemoRegie(
        "cayenne",
        "Régie de Territoire de Cayenne",
        "Cayenne",
        "97300",
        "America/Cayenne",
        "09 77 40 97 30",
        "Josiane Lony",
        "Bruno Ho-A-Chuck",
        ("Base technique route de Baduel", "Local du Mont-Lucas"),
        ("espaces-verts", "vehicules", "energie", "maraichage"),
        10,
    ),
)

EPI_BRUSH = "EPI obligatoires : casque-visière, antibruit, jambières"

EQUIPMENT: tuple[DemoItem, ...] = (
    DemoItem(
        "Tondeuse autotractée thermique 53 cm",
        "espaces-verts",
        150,
        650,
        7,
        24,
        "EPI : chaussures de sécurité, protection antibruit",
        "Tondeuse 4 temps avec bac de 70 L et fonction mulching. "
        "Faite pour les pelouses de pied d'immeuble jusqu'à 2 000 m².",
    ),
    DemoItem(
        "Tondeuse autoportée (tracteur tondeuse) 102 cm",
        "espaces-verts",
        800,
        3500,
        5,
        72,
        "Formation à la conduite (CACES R482 recommandé), conducteur majeur, "
        "permis B pour circuler sur la voie publique",
        "Tracteur tondeuse avec bac de 300 L pour les grands espaces enherbés des résidences. "
        "Se déplace sur une remorque plateau.",
    ),
    DemoItem(
        "Débroussailleuse thermique 1,5 kW + harnais",
        "espaces-verts",
        200,
        600,
        7,
        24,
        EPI_BRUSH,
        "Débroussailleuse avec tête à fil et lame trois dents. "
        "Le harnais double répartit le poids sur les deux épaules pour les longues journées.",
    ),
    DemoItem(
        "Débroussailleuse sur batterie + 2 batteries",
        "espaces-verts",
        200,
        750,
        7,
        24,
        "EPI : visière ou lunettes, gants, jambières",
        "Modèle silencieux pour travailler près des écoles ou tôt le matin. "
        "Deux batteries et un chargeur rapide : environ une heure et demie d'autonomie.",
    ),
    DemoItem(
        "Taille-haie sur batterie",
        "espaces-verts",
        120,
        350,
        7,
        24,
        "EPI : lunettes, gants anti-coupure",
        "Lamier de 60 cm, léger et peu bruyant, livré avec sa batterie et son chargeur.",
    ),
    DemoItem(
        "Taille-haie sur perche",
        "espaces-verts",
        150,
        450,
        7,
        24,
        "EPI : casque, lunettes, gants",
        "Tête orientable pour tailler le dessus des haies hautes sans escabeau. "
        "Portée jusqu'à 3,5 m.",
    ),
    DemoItem(
        "Souffleur de feuilles dorsal thermique",
        "espaces-verts",
        120,
        500,
        5,
        24,
        "Protection antibruit obligatoire",
        "Souffleur à dos pour le ramassage des feuilles en automne. "
        "Respectez les horaires de l'arrêté municipal sur le bruit.",
    ),
    DemoItem(
        "Broyeur de végétaux thermique (branches Ø 8 cm)",
        "espaces-verts",
        600,
        4200,
        3,
        72,
        "Formation à l'utilisation ; EPI : visière, antibruit, gants",
        "Broyeur sur châssis routier, attelable à un véhicule léger. "
        "Il transforme les tailles en paillage pour les massifs et les jardins partagés.",
    ),
    DemoItem(
        "Tronçonneuse d'élagage",
        "espaces-verts",
        200,
        550,
        3,
        48,
        "Formation et EPI anti-coupure obligatoires (pantalon, gants, casque)",
        "Tronçonneuse à poignée arrière, guide de 35 cm. "
        "La chaîne part affûtée : signalez au retour une chaîne émoussée.",
    ),
    DemoItem(
        "Scarificateur / aérateur de gazon",
        "espaces-verts",
        150,
        700,
        5,
        24,
        "",
        "Deux rouleaux interchangeables : lames pour scarifier, griffes pour aérer. "
        "Pour remettre les pelouses en état au printemps.",
    ),
    DemoItem(
        "Désherbeur thermique à gaz",
        "zero-phyto",
        100,
        180,
        7,
        24,
        "Bouteille de gaz non prêtée ; gants et chaussures de sécurité",
        "Lance à flamme pour désherber pavés et allées sans produit phytosanitaire. "
        "Prévoyez une bouteille de propane de 13 kg.",
    ),
    DemoItem(
        "Désherbeur à eau chaude / vapeur",
        "zero-phyto",
        800,
        9500,
        5,
        72,
        "Formation à la prise en main obligatoire",
        "Chariot à eau chaude pour les trottoirs, les cimetières et les cours d'école. "
        "Réservoir de 100 L ; fonctionne au gazole et sur secteur.",
    ),
    DemoItem(
        "Motoculteur (fraises + charrue)",
        "maraichage",
        400,
        1800,
        5,
        48,
        "EPI : chaussures de sécurité, antibruit",
        "Motoculteur de 7 ch avec fraises et charrue réversible. "
        "Pour préparer les planches des jardins partagés et des parcelles maraîchères.",
    ),
    DemoItem(
        "Motobineuse",
        "maraichage",
        200,
        600,
        5,
        24,
        "",
        "Petite motobineuse pour l'entretien entre les rangs, largeur réglable de 30 à 85 cm.",
    ),
    DemoItem(
        "Grelinette (lot de 2)",
        "maraichage",
        30,
        180,
        14,
        0,
        "",
        "Fourches à deux manches pour aérer la terre sans la retourner. "
        "L'outil de base des ateliers de jardinage au naturel.",
    ),
    DemoItem(
        "Semoir manuel de précision",
        "maraichage",
        80,
        350,
        14,
        24,
        "",
        "Semoir à pousser avec six disques, pour carottes, radis, salades et épinards.",
    ),
    DemoItem(
        "Kit irrigation goutte-à-goutte (100 m)",
        "maraichage",
        50,
        220,
        60,
        24,
        "Consommables (goutteurs, raccords) non repris",
        "Gaine goutte-à-goutte, programmateur et raccords pour équiper une serre "
        "ou quatre planches de culture.",
    ),
    DemoItem(
        "Serre tunnel démontable 6 × 3 m",
        "maraichage",
        300,
        900,
        90,
        168,
        "Montage à trois personnes minimum",
        "Arceaux galvanisés et bâche traitée anti-UV, avec notice et sacs de lestage. "
        "Prêtée pour une saison de culture.",
    ),
    DemoItem(
        "Balance de pesée plate-forme 150 kg",
        "maraichage",
        50,
        260,
        14,
        24,
        "",
        "Balance électronique sur batterie pour peser récoltes et paniers solidaires.",
    ),
    DemoItem(
        "Autolaveuse accompagnée 50 cm",
        "proprete",
        500,
        4800,
        5,
        48,
        "Formation courte à l'utilisation",
        "Autolaveuse sur batterie pour halls, parkings et salles polyvalentes. "
        "Rendez-la réservoirs vidés et rincés.",
    ),
    DemoItem(
        "Monobrosse 430 mm + disques",
        "proprete",
        300,
        1300,
        5,
        48,
        "Formation courte à l'utilisation",
        "Monobrosse basse vitesse avec disques rouge, vert et noir. "
        "Pour décaper et lustrer les sols des parties communes.",
    ),
    DemoItem(
        "Aspirateur eau et poussières 30 L",
        "proprete",
        80,
        320,
        7,
        24,
        "",
        "Aspirateur à cuve inox pour liquides et poussières, avec suceurs sol et fente. "
        "Bien utile après un chantier de peinture.",
    ),
    DemoItem(
        "Nettoyeur haute pression eau chaude",
        "proprete",
        400,
        2900,
        5,
        48,
        "EPI : lunettes de protection, bottes",
        "Nettoyeur 150 bars à eau chaude pour les conteneurs, les tags et les dalles. "
        "Flexible de 10 m.",
    ),
    DemoItem(
        "Injecteur-extracteur (shampouineuse moquette)",
        "proprete",
        150,
        900,
        5,
        24,
        "",
        "Pour nettoyer en profondeur moquettes et sièges en tissu. Détergent non fourni.",
    ),
    DemoItem(
        "Fourgon utilitaire 12 m³",
        "vehicules",
        1000,
        32000,
        3,
        72,
        "Permis B, assurance prêt de volant, carnet de bord à remplir",
        "Fourgon trois places pour les encombrants et le transport de matériel. "
        "Rendez-le avec le plein.",
    ),
    DemoItem(
        "Camion benne 3,5 t",
        "vehicules",
        1000,
        38000,
        3,
        72,
        "Permis B",
        "Benne basculante pour porter déchets verts et gravats à la déchetterie. "
        "Rendez la benne vide et balayée.",
    ),
    DemoItem(
        "Remorque plateau 750 kg",
        "vehicules",
        300,
        1400,
        7,
        24,
        "Permis B ; au-delà de 500 kg, carte grise propre à la remorque",
        "Plateau de 2,5 × 1,3 m avec ridelles amovibles et sangles, "
        "pour transporter une tondeuse ou des tables.",
    ),
    DemoItem(
        "Remorque benne 1 300 kg freinée",
        "vehicules",
        400,
        3200,
        7,
        48,
        "Vérifier permis B, B96 ou BE selon le PTAC cumulé",
        "Remorque freinée à benne basculante manuelle. "
        "Pour les chantiers d'espaces verts et l'évacuation des encombrants.",
    ),
    DemoItem(
        "Vélo cargo électrique",
        "mobilite-douce",
        300,
        5500,
        7,
        24,
        "Casque obligatoire",
        "Biporteur à assistance électrique avec caisse de 100 L. "
        "Pour les petites tournées et la livraison des paniers, environ 60 km d'autonomie.",
    ),
    DemoItem(
        "Transpalette manuel + diable",
        "manutention",
        60,
        450,
        7,
        24,
        "",
        "Transpalette 2 500 kg et diable pliant, pour les livraisons et les déménagements "
        "de salles.",
    ),
    DemoItem(
        "Échafaudage roulant 6 m",
        "batiment",
        400,
        2600,
        14,
        72,
        "Formation au montage des échafaudages roulants",
        "Échafaudage aluminium avec garde-corps et stabilisateurs, "
        "pour repeindre les cages d'escalier.",
    ),
    DemoItem(
        "Plateforme individuelle roulante légère (PIRL)",
        "batiment",
        100,
        650,
        14,
        24,
        "",
        "Plateforme à garde-corps pour travailler jusqu'à 2,5 m de haut. "
        "Plus sûre qu'un escabeau pour la peinture et les petits travaux.",
    ),
    DemoItem(
        "Barnum pliant 3 × 3 m (lot de 2)",
        "evenementiel",
        200,
        700,
        4,
        72,
        "Rendre propre et sec",
        "Deux tentes pliantes avec parois et poids de lestage, "
        "pour les fêtes de quartier et les marchés de producteurs.",
    ),
    DemoItem(
        "Tables pliantes (lot de 10) + bancs",
        "evenementiel",
        100,
        900,
        4,
        48,
        "",
        "Dix tables de 1,80 m et vingt bancs pliants. "
        "Tiennent dans un fourgon ou sur une remorque plateau.",
    ),
    DemoItem(
        "Sonorisation portable + micro",
        "evenementiel",
        300,
        1100,
        4,
        72,
        "Prise en main avec l'équipe avant le premier prêt",
        "Enceinte sur batterie avec deux micros sans fil et entrée Bluetooth. "
        "Pour les assemblées d'habitants et les fêtes de quartier.",
    ),
    DemoItem(
        "Groupe électrogène 3 kW",
        "energie",
        250,
        1200,
        5,
        48,
        "Carburant à la charge de l'emprunteur ; jamais dans un local fermé",
        "Groupe insonorisé avec deux prises 230 V, "
        "pour les chantiers sans branchement et les animations en plein air.",
    ),
)
