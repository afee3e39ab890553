"""The library of the French demo: 26 best-practice documents written by the demo régies.

Titles and themes follow the domain research (a few titles are those of real publications of
the network); every text here is written for the demo, none is copied. Two documents have a
second version, so that the history and the comparison of versions have something to show.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoDocument:
    regie: str  # slug of the author régie
    author: str  # "manager" or "member": who of the régie wrote it
    title: str
    summary: str
    themes: tuple[str, ...]
    tags: tuple[str, ...]
    type: str
    body: str
    # A later edit: the fields it changes (the title never changes, it identifies the demo).
    revision: dict[str, str] | None = None


DOCUMENTS: tuple[DemoDocument, ...] = (
    DemoDocument(
        regie="vierzon",
        author="manager",
        title="Guide de la gestion différenciée des espaces verts en pied d'immeuble",
        summary=(
            "Classer les espaces en zones, adapter l'entretien à chacune et l'expliquer aux "
            "habitants : la méthode suivie avec notre bailleur depuis trois saisons."
        ),
        themes=("espaces-verts", "transition-ecologique"),
        tags=("gestion différenciée", "fauche tardive", "biodiversité"),
        type="guide",
        body="""## Le principe

La gestion différenciée consiste à entretenir chaque espace autant que nécessaire, mais
aussi peu que possible. Plutôt que de tondre toutes les pelouses chaque semaine, on
distingue les lieux de passage, les aires de jeux et les coins qui peuvent rester plus
sauvages.

## Trois zones, trois niveaux d'entretien

| Zone | Exemples | Entretien |
|---|---|---|
| Soignée | entrées d'immeubles, abords des aires de jeux | tonte tous les 10 à 15 jours |
| Intermédiaire | pelouses entre les bâtiments | tonte mensuelle, bordures nettes |
| Naturelle | talus, fonds de parcelle | fauche tardive une à deux fois par an |

## Mettre en place

1. Faire le tour du site avec le bailleur et un plan de masse.
2. Colorier les zones sur le plan et le valider ensemble.
3. Poser des panneaux « Ici, on laisse pousser » dans les zones naturelles.
4. Ajuster le planning des équipes : moins de tontes, plus de temps pour les haies et le
   ramassage des déchets.

## Ce que nous avons appris

Les habitants acceptent très bien les prairies fleuries quand les bordures restent nettes :
une bande tondue d'un mètre le long des cheminements montre que l'espace est entretenu.
Les salariés en insertion apprécient la diversité des tâches (fauche, paillage, plantations)
et les économies de carburant sont réelles : près d'un tiers des passages de tondeuses en
moins dès la première année.
""",
    ),
    DemoDocument(
        regie="agen",
        author="member",
        title="Zéro phyto : techniques de désherbage alternatif (loi Labbé)",
        summary=(
            "Depuis la loi Labbé, plus de pesticides de synthèse sur les espaces publics ni, "
            "depuis 2022, dans les résidences : les techniques qui marchent sur le terrain."
        ),
        themes=("espaces-verts", "securite-prevention"),
        tags=("zéro phyto", "loi labbé", "désherbage"),
        type="fiche-pratique",
        body="""## Ce que dit la loi

La loi Labbé interdit aux collectivités d'utiliser des produits phytosanitaires de synthèse
sur les espaces verts, les voiries et les promenades depuis le 1er janvier 2017. Depuis le
1er juillet 2022, l'interdiction s'étend aux résidences d'habitation, aux cimetières, aux
terrains de sport et aux jardins partagés. Les régies qui entretiennent les espaces
extérieurs des bailleurs sont donc concernées.

## Les techniques

- **Désherbage manuel** : binette, couteau à désherber, griffe. Lent mais précis, idéal au
  pied des murs et autour des arbres.
- **Désherbage mécanique** : brosse rotative sur les allées, herse sur le gravier. Attention
  aux projections : lunettes et gants obligatoires.
- **Désherbage thermique** : désherbeur à gaz ou à flamme. Efficace sur les jeunes pousses,
  à proscrire par temps sec et près des haies.
- **Prévention** : paillage des massifs, plantes couvre-sol, joints végétalisés. La
  meilleure herbe indésirable est celle qui ne pousse pas.

## Organiser les passages

Prévoir trois à quatre passages entre avril et octobre, en commençant tôt, quand les
plantules sont petites. Un passage tardif au printemps coûte deux fois plus de temps.
""",
        revision={
            "body": """## Ce que dit la loi

La loi Labbé interdit aux collectivités d'utiliser des produits phytosanitaires de synthèse
sur les espaces verts, les voiries et les promenades depuis le 1er janvier 2017. Depuis le
1er juillet 2022, l'interdiction s'étend aux résidences d'habitation, aux cimetières, aux
terrains de sport et aux jardins partagés. Les régies qui entretiennent les espaces
extérieurs des bailleurs sont donc concernées.

## Les techniques

- **Désherbage manuel** : binette, couteau à désherber, griffe. Lent mais précis, idéal au
  pied des murs et autour des arbres.
- **Désherbage mécanique** : brosse rotative sur les allées, herse sur le gravier. Attention
  aux projections : lunettes et gants obligatoires.
- **Désherbage thermique** : désherbeur à gaz ou à flamme. Efficace sur les jeunes pousses,
  à proscrire par temps sec et près des haies.
- **Eau chaude** : un désherbeur à eau chaude (eau à 95 °C) traite les pavés et les
  bordures sans risque d'incendie. Plus coûteux, il se prête bien à la mutualisation entre
  régies voisines.
- **Prévention** : paillage des massifs, plantes couvre-sol, joints végétalisés. La
  meilleure herbe indésirable est celle qui ne pousse pas.

## Organiser les passages

Prévoir trois à quatre passages entre avril et octobre, en commençant tôt, quand les
plantules sont petites. Un passage tardif au printemps coûte deux fois plus de temps.

## Expliquer aux habitants

Quelques herbes au pied des murs ne sont pas un manque d'entretien. Une affiche dans les
halls, rédigée avec le bailleur, évite bien des réclamations.
""",
        },
    ),
    DemoDocument(
        regie="la-roche-sur-foron",
        author="manager",
        title="Fiche sécurité : débroussailleuse, EPI et zone de projection",
        summary=(
            "Les équipements de protection, le périmètre de sécurité de 15 mètres et les "
            "vérifications avant chaque démarrage de la débroussailleuse."
        ),
        themes=("securite-prevention", "espaces-verts"),
        tags=("epi", "débroussailleuse", "bruit"),
        type="fiche-pratique",
        body="""## Avant de démarrer

- Vérifier la fixation de l'outil de coupe (fil, couteau ou lame) et l'état du carter.
- Régler le harnais : l'outil doit flotter à hauteur des hanches, sans effort des bras.
- Faire le plein moteur arrêté et refroidi, à l'écart de toute flamme, puis s'éloigner de
  trois mètres pour démarrer.

## Les équipements de protection individuelle

| Risque | EPI |
|---|---|
| Projections de cailloux et de débris | casque avec visière grillagée, lunettes |
| Bruit (plus de 100 dB) | protections auditives |
| Coupures, projections sur les jambes | pantalon ou jambières de protection |
| Vibrations, glissades | gants anti-vibrations, chaussures de sécurité |

## La zone de projection

Personne ne doit se trouver à moins de **15 mètres** de l'utilisateur. En pied d'immeuble,
un collègue se charge du balisage et arrête le travail dès qu'un passant, un enfant ou un
animal approche. Les voitures garées et les vitres des rez-de-chaussée se protègent avec un
écran mobile ou en travaillant dos à elles.

## Pendant le travail

Alterner les tâches toutes les heures pour limiter l'exposition aux vibrations, et boire
régulièrement en été. Ne jamais utiliser la débroussailleuse au-dessus des épaules.
""",
    ),
    DemoDocument(
        regie="grenoble",
        author="manager",
        title="Tondeuse autoportée : qui peut conduire et à quelles conditions ?",
        summary=(
            "L'autorisation de conduite délivrée par l'employeur, la formation, l'aptitude "
            "médicale et les règles à respecter sur les pentes et les voies ouvertes."
        ),
        themes=("securite-prevention", "espaces-verts"),
        tags=("autorisation de conduite", "tondeuse autoportée", "formation"),
        type="fiche-pratique",
        body="""## Une autorisation écrite

Les tondeuses autoportées sont des engins automoteurs : leur conduite est réservée aux
salariés qui ont reçu de l'employeur une **autorisation de conduite** écrite. Avant de la
délivrer, la régie s'assure de trois choses :

1. l'aptitude médicale, vérifiée par le médecin du travail ;
2. une formation à la conduite en sécurité, théorique et pratique, sur la machine utilisée ;
3. la connaissance des lieux : pentes, bordures, regards, zones fréquentées par les enfants.

L'autorisation nomme les engins concernés et se tient à disposition en cas de contrôle.

## Les conditions d'utilisation

- Pas de transport de passager, jamais.
- Sur les pentes, tondre dans le sens de la pente et non en travers ; au-delà de la pente
  indiquée par le constructeur, passer à la tondeuse autotractée ou à la débroussailleuse.
- Arrêter la lame pour traverser une allée et couper le moteur avant de descendre.
- Sur une voie ouverte à la circulation, le permis B peut être exigé : se renseigner avant
  tout déplacement entre deux sites.

## En cas de prêt entre régies

La régie qui emprunte une tondeuse autoportée reste responsable de ses conducteurs : elle
vérifie leurs autorisations avant l'enlèvement, et la régie prêteuse peut demander à les
voir lors de l'état des lieux de départ.
""",
    ),
    DemoDocument(
        regie="vierzon",
        author="manager",
        title="Convention type de prêt de matériel entre régies",
        summary=(
            "Une convention simple à adapter : objet, durée, caution, assurance, état des "
            "lieux et partage des frais en cas de casse."
        ),
        themes=("mutualisation",),
        tags=("convention", "prêt", "caution"),
        type="modele",
        body="""## Entre les soussignées

La Régie de Quartier prêteuse, représentée par sa direction, et la régie emprunteuse,
représentée de même, conviennent de ce qui suit.

## Article 1 — Objet

La régie prêteuse met à disposition le matériel décrit en annexe (désignation, numéro de
série, état constaté au départ) pour la période indiquée dans la réservation.

## Article 2 — Durée et restitution

Le prêt commence à l'enlèvement et se termine au retour du matériel, propre, le plein fait
pour les engins thermiques. Tout retard est signalé au plus tôt.

## Article 3 — Caution

Un chèque de caution dont le montant figure sur la fiche du matériel est remis à
l'enlèvement. Il n'est pas encaissé et se trouve rendu au retour, sauf dommage.

## Article 4 — Assurance et responsabilité

La régie emprunteuse assure le matériel pendant le prêt et répond de son usage par ses
salariés, qu'elle forme et équipe des EPI nécessaires.

## Article 5 — État des lieux

Un état des lieux contradictoire, avec photos, est fait au départ et au retour. Les
réserves sont notées sur la réservation.

## Article 6 — Casse et usure

L'usure normale reste à la charge de la régie prêteuse. Une casse due à un mauvais usage
est réparée aux frais de l'emprunteuse, dans la limite de la valeur de remplacement.
""",
        revision={
            "body": """## Entre les soussignées

La Régie de Quartier prêteuse, représentée par sa direction, et la régie emprunteuse,
représentée de même, conviennent de ce qui suit.

## Article 1 — Objet

La régie prêteuse met à disposition le matériel décrit en annexe (désignation, numéro de
série, état constaté au départ) pour la période indiquée dans la réservation.

## Article 2 — Durée et restitution

Le prêt commence à l'enlèvement et se termine au retour du matériel, propre, le plein fait
pour les engins thermiques. Tout retard est signalé au plus tôt.

## Article 3 — Caution

Le montant de la caution figure sur la fiche du matériel. Il est simplement noté sur la
réservation : aucun chèque n'est demandé entre régies du réseau, la convention suffit.

## Article 4 — Assurance et responsabilité

La régie emprunteuse assure le matériel pendant le prêt et répond de son usage par ses
salariés, qu'elle forme et équipe des EPI nécessaires.

## Article 5 — État des lieux

Un état des lieux contradictoire, avec photos, est fait au départ et au retour. Les
réserves sont notées sur la réservation.

## Article 6 — Casse et usure

L'usure normale reste à la charge de la régie prêteuse. Une casse due à un mauvais usage
est réparée aux frais de l'emprunteuse, dans la limite de la valeur de remplacement.
""",
            "summary": (
                "Une convention simple à adapter : objet, durée, caution notée sans chèque, "
                "assurance, état des lieux et partage des frais en cas de casse."
            ),
        },
    ),
    DemoDocument(
        regie="lyon-8",
        author="member",
        title="État des lieux de départ et de retour : check-list photo",
        summary=(
            "Les photos à prendre et les points à vérifier quand un matériel part en prêt et "
            "quand il revient, pour éviter les malentendus."
        ),
        themes=("mutualisation",),
        tags=("état des lieux", "photos", "prêt"),
        type="check-list",
        body="""## Au départ, avec l'emprunteur

- [ ] Photo d'ensemble du matériel, de face et de dos
- [ ] Photo de la plaque d'identification (marque, modèle, numéro de série)
- [ ] Photos rapprochées des rayures, bosses et réparations déjà présentes
- [ ] Niveau de carburant et d'huile, photo de la jauge
- [ ] Compteur d'heures pour les engins qui en ont un
- [ ] Accessoires remis : clés, harnais, lames, batteries, chargeur, notice
- [ ] Essai de démarrage devant l'emprunteur

## Au retour

- [ ] Mêmes photos, prises sous le même angle
- [ ] Propreté : pas de terre ni d'herbe collée sous le carter
- [ ] Accessoires complets, comptés un par un
- [ ] Essai de fonctionnement
- [ ] Réserves notées sur la réservation et signées des deux côtés

## Conseils

Prendre les photos avec le téléphone de la régie plutôt qu'un téléphone personnel, et les
ranger dans un dossier au nom de la réservation. Une lumière de jour évite les reflets qui
cachent les rayures. En cas de désaccord sur un dommage, comparer calmement les photos de
départ et de retour : dans la plupart des cas, elles suffisent à trancher et la relation
entre les deux régies n'en souffre pas.
""",
    ),
    DemoDocument(
        regie="dole",
        author="manager",
        title="Mutualiser un véhicule entre associations : convention et répartition des coûts",
        summary=(
            "Partager un utilitaire avec des associations du quartier : planning, assurance, "
            "carnet de bord et une clé de répartition des frais au kilomètre."
        ),
        themes=("mutualisation", "vie-associative"),
        tags=("véhicule", "utilitaire", "répartition des coûts"),
        type="guide",
        body="""## Pourquoi partager

Un utilitaire de 12 m³ reste souvent garé les soirs et les week-ends, au moment où les
associations du quartier en ont besoin pour une brocante ou une collecte. Le partager
réduit les coûts de chacun et crée des liens entre structures.

## Les règles communes

1. Un planning partagé, tenu par la régie, avec des créneaux réservés une semaine à
   l'avance.
2. Une liste nominative de conducteurs, titulaires du permis B depuis au moins trois ans.
3. Un carnet de bord dans la boîte à gants : date, conducteur, kilomètres au départ et au
   retour, plein éventuel, remarques.
4. Une assurance flotte étendue aux conducteurs des associations partenaires.

## Répartir les coûts

Les frais fixes (assurance, entretien, contrôle technique) se partagent au prorata des
kilomètres parcourus ; le carburant est payé par chaque utilisateur.

| Poste annuel | Montant indicatif | Clé de répartition |
|---|---|---|
| Assurance | 1 400 € | kilomètres |
| Entretien et pneus | 900 € | kilomètres |
| Contrôle technique | 90 € | kilomètres |
| Carburant | selon usage | chaque utilisateur |

## Faire le point

Une réunion par trimestre permet de régler les factures, de revoir le planning et de
traiter les petits soucis avant qu'ils ne deviennent des conflits.
""",
    ),
    DemoDocument(
        regie="la-roche-sur-foron",
        author="member",
        title="Entretien et hivernage du petit matériel thermique",
        summary=(
            "Vidanger, nettoyer et ranger tondeuses, taille-haies et souffleurs avant l'hiver "
            "pour qu'ils redémarrent au printemps."
        ),
        themes=("espaces-verts", "mutualisation"),
        tags=("hivernage", "moteur deux-temps", "entretien"),
        type="fiche-pratique",
        body="""## Pourquoi hiverner

Un moteur thermique qui passe l'hiver avec de l'essence dans le carburateur démarre mal au
printemps : le carburant vieillit, les gicleurs se bouchent et les membranes durcissent.
Une heure de travail par machine en novembre évite des réparations en avril.

## Les étapes

1. **Nettoyer** : brosser le carter, retirer l'herbe séchée sous la tondeuse, souffler les
   ailettes de refroidissement.
2. **Carburant** : faire tourner le moteur jusqu'à la panne sèche, ou ajouter un
   stabilisateur si le réservoir reste plein.
3. **Huile** : vidanger les moteurs quatre-temps à chaud et remplir d'huile neuve.
4. **Bougie** : la démonter, la nettoyer ou la changer, et verser une cuillère d'huile dans
   le cylindre avant de la remonter.
5. **Lames et chaînes** : affûter, graisser, protéger avec leur fourreau.
6. **Filtre à air** : nettoyer la mousse à l'eau savonneuse, changer les filtres papier.
7. **Ranger** au sec, à l'abri du gel, batteries retirées et stockées à part.

## Tenir le registre

Noter chaque opération sur la fiche du matériel : date, heures de fonctionnement,
pièces changées. Quand le matériel est prêté à d'autres régies, ce suivi rassure
l'emprunteur et aide à fixer une valeur de remplacement juste.
""",
    ),
    DemoDocument(
        regie="paris-19",
        author="manager",
        title="Protocole de nettoyage des halls et cages d'escalier",
        summary=(
            "Fréquences, ordre des tâches, produits écolabellisés et traçabilité des passages "
            "pour l'entretien des parties communes."
        ),
        themes=("proprete",),
        tags=("halls", "escaliers", "produits écolabellisés"),
        type="procedure",
        body="""## Fréquences

| Tâche | Fréquence |
|---|---|
| Balayage humide des halls | tous les jours ouvrés |
| Lavage des sols des halls | trois fois par semaine |
| Balayage et lavage des escaliers | une fois par semaine |
| Essuyage des boîtes aux lettres, rampes, interrupteurs | une fois par semaine |
| Vitres des portes d'entrée | tous les quinze jours |

## Ordre des tâches

Toujours travailler **du haut vers le bas** et **du propre vers le sale** : dépoussiérer
d'abord les rampes et les boîtes aux lettres, puis balayer les escaliers en descendant,
enfin laver le hall en reculant vers la sortie.

## Produits et matériel

- Détergent neutre écolabellisé, dosé avec une pompe doseuse : trop de produit laisse des
  traces et abîme les sols.
- Lavettes microfibres de couleur : bleu pour les surfaces, rouge pour les sanitaires et les
  locaux poubelles, jamais mélangées.
- Panneau « sol glissant » posé avant le lavage et retiré une fois le sol sec.

## Traçabilité

Chaque passage est noté sur la fiche affichée dans le hall : date, heure, initiales. Les
habitants voient que l'entretien est fait, et le bailleur dispose d'un suivi en cas de
réclamation.

## Sécurité

Gants de ménage pour tous les produits, jamais de mélange de produits, et signalement
immédiat des seringues ou objets dangereux à l'encadrant, qui intervient avec une pince.
""",
    ),
    DemoDocument(
        regie="le-blanc-mesnil",
        author="manager",
        title="Régies de Quartier et organismes HLM : bonnes pratiques",
        summary=(
            "Construire un partenariat durable avec un bailleur social : interlocuteurs, "
            "contrats, réunions de site et remontée des informations du terrain."
        ),
        themes=("commande-publique",),
        tags=("bailleurs", "hlm", "partenariat"),
        type="guide",
        body="""## Un partenaire historique

Les organismes HLM sont souvent les premiers clients des régies : entretien des parties
communes, espaces extérieurs, petits travaux, gestion des encombrants. Ce partenariat va
au-delà d'une simple prestation, puisque les salariés de la régie habitent souvent les
résidences qu'ils entretiennent.

## Les bonnes pratiques

- **Un interlocuteur identifié** de chaque côté : le responsable de secteur du bailleur
  et l'encadrant technique de la régie, qui se parlent chaque semaine.
- **Des contrats lisibles** : un cahier des charges par résidence, avec les fréquences et
  les attendus de qualité, plutôt qu'un forfait global difficile à suivre.
- **Des réunions de site** deux fois par an, ouvertes aux amicales de locataires, pour
  faire le bilan et ajuster les prestations.
- **La remontée du terrain** : les équipes signalent les dégradations, les pannes
  d'éclairage ou les situations préoccupantes. Un formulaire simple, envoyé chaque
  vendredi, évite que ces informations se perdent.

## Valoriser l'utilité sociale

Au-delà du prix, le bailleur gagne une présence quotidienne, une meilleure tranquillité et
des parcours d'emploi pour ses locataires. Le rapport annuel de la régie gagne à le
montrer avec quelques chiffres : heures d'insertion réalisées, sorties vers l'emploi,
habitants associés aux actions.
""",
    ),
    DemoDocument(
        regie="roubaix",
        author="manager",
        title=(
            "La commande publique, levier pour l'emploi et la cohésion sociale "
            "(mémo clauses d'insertion)"
        ),
        summary=(
            "Les clauses sociales des marchés publics, les marchés réservés et la manière de "
            "se positionner comme régie auprès des acheteurs publics."
        ),
        themes=("commande-publique", "insertion"),
        tags=("clauses sociales", "marchés publics", "insertion"),
        type="guide",
        body="""## De quoi parle-t-on

Les acheteurs publics peuvent faire de leurs marchés un outil d'insertion. Trois
mécanismes existent, qu'il est utile de connaître avant de répondre à une consultation.

1. **La clause d'exécution** : le titulaire du marché réserve un nombre d'heures de travail
   à des personnes éloignées de l'emploi. Il peut embaucher directement, sous-traiter à une
   structure d'insertion ou recourir à la mise à disposition.
2. **Le marché réservé** : certains lots sont ouverts aux seules structures de l'insertion
   par l'activité économique. La concurrence se fait alors entre structures comparables.
3. **Le critère d'attribution** : la performance en matière d'insertion compte dans la
   note, à côté du prix et de la valeur technique.

## Se positionner

- Se faire connaître des facilitateurs de clauses du territoire, qui conseillent les
  acheteurs et accompagnent les entreprises.
- Préparer un dossier type : présentation de la régie, références, moyens humains et
  matériels, modalités d'accompagnement des salariés.
- Répondre en groupement avec d'autres structures quand un lot dépasse nos capacités.

## Après l'attribution

Le suivi des heures d'insertion se fait chaque mois avec le facilitateur. Des relevés
précis et rendus à temps sont le meilleur argument pour le marché suivant.
""",
    ),
    DemoDocument(
        regie="laxou",
        author="member",
        title="Du compostage à l'éco-citoyenneté : compostage partagé en pied d'immeuble",
        summary=(
            "Comment trois résidences ont installé des composteurs collectifs avec leurs "
            "habitants, et ce que la régie y a appris sur la médiation."
        ),
        themes=("transition-ecologique", "mediation-lien-social"),
        tags=("compost", "biodéchets", "habitants"),
        type="retour-experience",
        body="""## Le point de départ

Les bacs d'ordures ménagères des résidences débordaient, et un tiers de leur contenu était
fait d'épluchures et de restes de repas. Avec le bailleur et la métropole, la régie a
proposé d'installer des composteurs partagés au pied des immeubles.

## Les étapes

1. Une réunion d'information dans le hall, un soir à 18 h, avec des épluchures et un
   seau de compost mûr pour montrer le résultat.
2. L'inscription de foyers volontaires, qui reçoivent un bio-seau et un mode d'emploi
   illustré, traduit en plusieurs langues.
3. L'installation de trois bacs en bois : un pour les apports, un en maturation, un pour
   la matière sèche (feuilles, broyat).
4. Des permanences hebdomadaires tenues par un salarié de la régie formé comme guide
   composteur.

## Ce qui a marché

Les permanences sont devenues un lieu de rencontre. Des habitants qui ne se parlaient pas
échangent des recettes, des enfants viennent chercher des vers de terre, et les plus
impliqués ouvrent eux-mêmes le composteur quand le salarié est absent. Le compost mûr sert
aux jardinières de la résidence.

## Les difficultés

Quelques apports indésirables (sacs plastiques, restes de viande) au début, et des
mouches en été quand la matière sèche manquait. Un panneau clair et une réserve de broyat
toujours pleine ont réglé l'essentiel.
""",
    ),
    DemoDocument(
        regie="mainvilliers",
        author="manager",
        title="L'économie solidaire en pratiques dans les régies de quartier et de territoire",
        summary=(
            "Gouvernance partagée avec les habitants, hybridation des ressources, ancrage "
            "local : ce que l'économie solidaire change au quotidien d'une régie."
        ),
        themes=("vie-associative",),
        tags=("économie solidaire", "gouvernance", "habitants"),
        type="retour-experience",
        body="""## Une association pas comme les autres

Une régie de quartier réunit dans son conseil d'administration des habitants, des élus
locaux et des bailleurs. Cette gouvernance à trois collèges n'est pas une formalité : elle
oblige à expliquer les choix, à rendre des comptes et à écouter ceux qui vivent sur le
territoire.

## Des ressources hybrides

Notre régie équilibre son budget avec trois sources de recettes :

- la vente de prestations aux bailleurs et à la ville, qui représente la plus grande part ;
- les aides liées à l'insertion par l'activité économique ;
- des subventions et des dons pour les actions de lien social, qui ne se vendent pas.

Aucune de ces ressources ne suffit seule. Leur mélange permet de faire des choses qu'une
entreprise classique ne ferait pas, comme tenir une permanence de quartier ou organiser
une fête des voisins.

## Au quotidien

Concrètement, l'économie solidaire se voit dans de petites décisions : recruter dans le
quartier, acheter local quand c'est possible, prêter notre matériel aux associations, ouvrir
nos réunions aux habitants. Elle se voit aussi dans la manière de traiter les salariés en
parcours, qui participent aux réunions d'équipe comme les autres.

## Les limites

Le temps consacré à la vie associative n'est pas facturable. Il faut le défendre chaque
année auprès des financeurs en montrant ce qu'il produit.
""",
    ),
    DemoDocument(
        regie="grenoble",
        author="member",
        title="Kit d'animation écogestes : tri, eau, énergie avec les habitants",
        summary=(
            "Trois ateliers d'une heure, prêts à animer au pied des immeubles, pour parler tri "
            "des déchets, économies d'eau et d'énergie."
        ),
        themes=("transition-ecologique",),
        tags=("écogestes", "tri", "animation"),
        type="guide",
        body="""## Principes d'animation

Les ateliers se tiennent là où passent les habitants : dans le hall, au local commun ou au
pied des immeubles, à l'heure de la sortie d'école. Ils durent une heure au plus, avec du
matériel à toucher plutôt que des discours.

## Atelier 1 — Le tri des déchets

Un sac de déchets propres (emballages, bouteilles, cartons, épluchures factices) est vidé
sur une table. Les participants trient, puis comparent avec les consignes de la
collectivité. On termine sur les erreurs fréquentes : les sacs en plastique fermés, les
cartons pizza gras, le verre dans le mauvais bac.

## Atelier 2 — L'eau

Un seau gradué et un chronomètre : combien de litres coulent pendant une douche de cinq
minutes, pendant un brossage de dents robinet ouvert ? On distribue des mousseurs et on
apprend à repérer une fuite de chasse d'eau avec quelques gouttes de colorant alimentaire.

## Atelier 3 — L'énergie

Un wattmètre branché sur une multiprise montre la consommation des appareils en veille.
Les habitants repartent avec une multiprise à interrupteur et des conseils pour le
chauffage : 19 °C dans les pièces à vivre, aérer dix minutes par jour, fermer les volets la
nuit.

## Matériel du kit

Le kit tient dans deux caisses et se prête entre régies : consignes de tri plastifiées,
seau gradué, mousseurs, wattmètre, multiprises, affiches et un livret d'animation.
""",
    ),
    DemoDocument(
        regie="vierzon",
        author="member",
        title=(
            "Maraîchage biologique en chantier d'insertion : calendrier de culture et rotations"
        ),
        summary=(
            "Organiser une année de culture sur un hectare avec une équipe en insertion : "
            "planning des semis, rotations sur quatre ans et tâches formatrices."
        ),
        themes=("maraichage-alimentation", "insertion"),
        tags=("maraîchage", "rotations", "chantier d'insertion"),
        type="guide",
        body="""## Un support de formation

Au jardin, chaque saison apporte des tâches variées : semis, repiquage, désherbage,
récolte, préparation des paniers. C'est ce qui fait du maraîchage un bon support pour des
salariés en parcours d'insertion, à condition de planifier pour que personne ne reste
désœuvré.

## Les rotations sur quatre ans

On divise les planches en quatre blocs et on fait tourner les familles de légumes pour
limiter les maladies et épuiser moins le sol.

| Année | Bloc A | Bloc B | Bloc C | Bloc D |
|---|---|---|---|---|
| 1 | légumes-feuilles | légumes-fruits | légumes-racines | légumineuses |
| 2 | légumineuses | légumes-feuilles | légumes-fruits | légumes-racines |
| 3 | légumes-racines | légumineuses | légumes-feuilles | légumes-fruits |
| 4 | légumes-fruits | légumes-racines | légumineuses | légumes-feuilles |

## Le calendrier

- **Janvier-février** : plan de culture, commandes de semences, semis sous serre chauffée
  des tomates et poivrons.
- **Mars-mai** : préparation des sols, plantations, premiers semis en pleine terre.
- **Juin-septembre** : récoltes, irrigation, désherbage, préparation des paniers deux fois
  par semaine.
- **Octobre-décembre** : engrais verts, entretien des outils, bilan de saison.

## L'encadrement

Un encadrant technique pour huit salariés au plus. Chaque matin, un point de dix minutes
répartit les tâches et explique le pourquoi des gestes : c'est là que se fait
l'apprentissage.
""",
    ),
    DemoDocument(
        regie="dole",
        author="member",
        title="Vente de paniers et tarifs sociaux : organiser les points de dépôt",
        summary=(
            "Deux tarifs pour un même panier de légumes, trois points de dépôt dans le "
            "quartier : l'organisation qui permet aux familles modestes d'en profiter."
        ),
        themes=("maraichage-alimentation",),
        tags=("paniers", "tarifs sociaux", "points de dépôt"),
        type="retour-experience",
        body="""## L'idée

Les légumes du jardin d'insertion étaient surtout achetés par des clients extérieurs au
quartier. Nous voulions que les familles des résidences voisines en profitent aussi, sans
sacrifier l'équilibre économique du chantier.

## Deux tarifs pour un même panier

| Panier | Tarif solidaire | Tarif plein |
|---|---|---|
| Petit (2 personnes) | 5 € | 12 € |
| Grand (4 personnes) | 8 € | 18 € |

Le tarif solidaire est ouvert sur simple déclaration, avec l'aide du centre social ou de
l'épicerie solidaire. Les paniers au tarif plein financent en partie la différence.

## Les points de dépôt

Trois lieux tenus par des partenaires : le centre social, la loge d'un gardien et le local
de la régie. Les paniers y arrivent le jeudi à 16 h ; les retraits se font jusqu'à 19 h.
Un salarié en insertion assure la livraison avec le véhicule de la régie, ce qui lui donne
une expérience de la logistique et du contact avec la clientèle.

## Après deux saisons

La moitié des paniers sont vendus au tarif solidaire. Les abonnés se retrouvent aux points
de dépôt et échangent des recettes ; le centre social y a ajouté un atelier cuisine par mois.
Les invendus sont donnés à l'épicerie solidaire le vendredi matin.
""",
    ),
    DemoDocument(
        regie="cayenne",
        author="manager",
        title="Livret d'accueil du salarié en insertion (CDDI)",
        summary=(
            "La trame du livret remis le premier jour : la régie, le contrat, les horaires, la "
            "sécurité, l'accompagnement et les contacts utiles."
        ),
        themes=("insertion",),
        tags=("cddi", "accueil", "livret"),
        type="modele",
        body="""## Bienvenue à la régie

Ce livret vous accompagne pendant vos premières semaines. Gardez-le avec vous : il répond
aux questions les plus fréquentes. N'hésitez pas à poser toutes les autres à votre
encadrant ou à votre accompagnatrice.

## Qui sommes-nous

Une association d'habitants, d'élus et de partenaires qui entretient le quartier et aide ses
habitants à trouver un emploi. Vous faites partie d'une équipe qui travaille sur les
espaces verts, la propreté ou le petit bâtiment.

## Votre contrat

Vous êtes embauché en **contrat à durée déterminée d'insertion (CDDI)**. Le contrat précise
sa durée, vos horaires et votre rémunération. Il peut être renouvelé selon l'avancée de
votre parcours.

## Vos horaires et vos absences

- Prise de poste au local à l'heure indiquée sur le planning de la semaine.
- En cas de retard ou d'absence, prévenir l'encadrant **avant** le début de la journée.
- Tout arrêt de travail est transmis sous 48 heures.

## Votre sécurité

Vous recevez vos équipements de protection le premier jour : chaussures de sécurité, gants,
vêtements haute visibilité. Leur port est obligatoire sur les chantiers. Un accueil sécurité
vous présente les risques de votre poste avant toute utilisation d'un outil.

## Votre accompagnement

Un entretien individuel a lieu chaque mois avec l'accompagnatrice socioprofessionnelle pour
faire le point sur votre projet, vos démarches et vos formations.

## Contacts utiles

Les numéros de l'encadrant, de l'accompagnatrice et du secrétariat sont à compléter ici.
""",
    ),
    DemoDocument(
        regie="mainvilliers",
        author="member",
        title="Accompagnement socioprofessionnel : suivi des parcours et sorties dynamiques",
        summary=(
            "Les entretiens, les outils de suivi et les indicateurs de sortie utilisés pour "
            "accompagner chaque salarié vers l'emploi ou la formation."
        ),
        themes=("insertion", "qualite-pilotage"),
        tags=("parcours", "sorties dynamiques", "accompagnement"),
        type="guide",
        body="""## Un parcours, pas seulement un contrat

Le contrat d'insertion est une étape. Dès l'accueil, l'accompagnatrice et le salarié
construisent ensemble un projet professionnel et identifient les freins à lever :
logement, mobilité, santé, garde d'enfants, maîtrise du français.

## Les rendez-vous

1. **Entretien d'accueil** dans la première semaine : situation, attentes, premières
   démarches.
2. **Entretiens mensuels** : avancée des démarches, point sur le travail avec
   l'encadrant technique.
3. **Bilan à mi-parcours** : le projet est-il réaliste ? Faut-il une formation, une
   immersion en entreprise ?
4. **Préparation de la sortie** dans les trois derniers mois : candidatures, simulations
   d'entretien, contacts avec les employeurs du territoire.

## Les sorties dynamiques

On compte comme sorties dynamiques les emplois durables (CDI, CDD de six mois et plus),
les emplois de transition (contrats plus courts, intérim) et les sorties positives comme
l'entrée en formation qualifiante. Les régies suivent ces résultats dans leur tableau de
bord et les présentent chaque année aux financeurs.

## Travailler en équipe

L'accompagnement ne se fait pas seul. L'encadrant technique observe les savoir-faire et le
savoir-être au quotidien ; l'accompagnatrice fait le lien avec les partenaires de
l'emploi. Une réunion mensuelle à deux, salarié par salarié, évite les messages
contradictoires et permet de réagir vite quand un parcours se complique.
""",
    ),
    DemoDocument(
        regie="agen",
        author="manager",
        title="Tableau de bord qualité des prestations (propreté, espaces verts)",
        summary=(
            "Une dizaine d'indicateurs suivis chaque mois avec les donneurs d'ordre, la manière "
            "de les mesurer et un modèle de tableau à reprendre."
        ),
        themes=("qualite-pilotage",),
        tags=("indicateurs", "tableau de bord", "contrôle qualité"),
        type="modele",
        body="""## Pourquoi un tableau de bord

Les bailleurs et la ville veulent savoir si les prestations sont faites et bien faites.
Plutôt que d'attendre les réclamations, la régie mesure elle-même quelques indicateurs et
les partage chaque mois. Les discussions portent alors sur des faits.

## Les indicateurs retenus

| Indicateur | Mesure | Objectif |
|---|---|---|
| Passages réalisés | passages faits / passages prévus | 98 % |
| Note de propreté des halls | grille de contrôle sur 20 | 16 |
| Délai de traitement des réclamations | jours ouvrés | 2 |
| Encombrants enlevés sous 48 h | en % des signalements | 90 % |
| Tontes réalisées dans la semaine prévue | en % | 95 % |
| Accidents du travail | nombre dans le mois | 0 |

## La grille de contrôle

L'encadrant contrôle chaque mois un échantillon de halls et d'espaces verts, tiré au sort.
Chaque critère (sols, vitres, boîtes aux lettres, abords) est noté de 0 à 4. Les photos
accompagnent la grille.

## Faire vivre le tableau

Le tableau est présenté en réunion d'équipe avant d'être envoyé au donneur d'ordre : les
salariés voient le résultat de leur travail et proposent des améliorations. Un indicateur
qui reste au vert pendant un an peut être remplacé par un autre, plus utile.
""",
    ),
    DemoDocument(
        regie="lyon-8",
        author="manager",
        title="Document unique d'évaluation des risques (DUERP) d'une régie : trame",
        summary=(
            "Une trame de document unique par unité de travail, avec les risques les plus "
            "fréquents d'une régie et des exemples de mesures de prévention."
        ),
        themes=("securite-prevention",),
        tags=("duerp", "risques professionnels", "prévention"),
        type="modele",
        body="""## Rappel

Toute structure qui emploie des salariés tient à jour un document unique d'évaluation des
risques professionnels. Il se révise au moins une fois par an et à chaque changement
important : nouvelle activité, nouvel équipement, accident.

## Les unités de travail

Découper la régie en unités homogènes : espaces verts, propreté, second œuvre du bâtiment,
conduite de véhicules, travail de bureau. Pour chacune, lister les situations dangereuses,
les évaluer et décider des mesures.

## Exemple pour les espaces verts

| Risque | Gravité | Fréquence | Mesures de prévention |
|---|---|---|---|
| Projections (débroussailleuse) | élevée | fréquente | visière, balisage, formation |
| Bruit | moyenne | quotidienne | protections auditives, rotation des tâches |
| Troubles musculosquelettiques | moyenne | quotidienne | harnais, matériel léger, pauses |
| Chaleur | élevée | saisonnière | horaires décalés, eau, ombre |
| Circulation près des voies | élevée | occasionnelle | gilets, panneaux, cônes |

## Le plan d'action

Chaque mesure reçoit un responsable et une échéance. Le document est présenté au comité
social et économique quand il existe, et affiché ou tenu à disposition des salariés.

## Associer les équipes

Les meilleurs repérages viennent des salariés eux-mêmes. Un quart d'heure sécurité par
mois, sur un thème du document unique, fait remonter les situations oubliées.
""",
    ),
    DemoDocument(
        regie="le-blanc-mesnil",
        author="member",
        title="Correspondants de nuit et médiation sociale : retours d'expérience",
        summary=(
            "Une équipe de correspondants de nuit, ce qu'elle fait, ce qu'elle ne fait pas, et "
            "ce que trois années de présence ont changé dans les résidences."
        ),
        themes=("mediation-lien-social",),
        tags=("médiation", "tranquillité", "correspondants de nuit"),
        type="retour-experience",
        body="""## Le service

Quatre correspondants de nuit circulent en binôme de 18 h à 1 h dans les résidences du
quartier. Ils vont au-devant des habitants, apaisent les conflits de voisinage, orientent
les personnes en difficulté et signalent les dysfonctionnements techniques.

## Ce qu'ils ne font pas

Les correspondants ne sont ni des vigiles ni des policiers. Ils n'interviennent pas dans
les situations violentes : ils alertent les services compétents et restent à distance.
Cette limite est rappelée à chaque réunion avec les partenaires.

## Les situations les plus fréquentes

- Bruit et conflits de voisinage, souvent réglés par une simple discussion.
- Personnes âgées isolées, visitées régulièrement avec leur accord.
- Jeunes rassemblés dans les halls : dialogue, orientation vers le club de prévention.
- Pannes d'éclairage, portes d'entrée bloquées, ascenseurs en panne, signalés au bailleur
  dès le lendemain matin.

## Ce qui a changé

Les habitants connaissent les correspondants par leur prénom. Les appels au bailleur pour
des troubles de voisinage ont baissé, et les signalements techniques arrivent plus vite.
Le travail est exigeant : une supervision mensuelle avec une psychologue aide l'équipe à
prendre du recul sur les situations difficiles.

## Conditions de réussite

Un financement stable sur plusieurs années, une formation initiale sérieuse à la
médiation et des liens réguliers avec la police municipale, le bailleur et les
travailleurs sociaux.
""",
    ),
    DemoDocument(
        regie="saint-denis-reunion",
        author="manager",
        title="Jardins partagés : charte et règlement type",
        summary=(
            "Une charte des valeurs et un règlement intérieur à adapter pour un jardin partagé "
            "cultivé par les habitants avec l'appui de la régie."
        ),
        themes=("maraichage-alimentation", "vie-associative"),
        tags=("jardins partagés", "charte", "règlement"),
        type="modele",
        body="""## La charte

Le jardin partagé est un lieu ouvert, cultivé ensemble par des habitants du quartier. Les
jardiniers s'engagent à :

- respecter les autres jardiniers, les voisins et le lieu ;
- cultiver sans pesticides ni engrais chimiques ;
- économiser l'eau, en arrosant le soir et en paillant les cultures ;
- partager leurs savoirs, leurs semences et une partie de leurs récoltes ;
- accueillir les visiteurs et les écoles lors des journées portes ouvertes.

## Le règlement intérieur

**Article 1 — Accès.** Le jardin est ouvert aux adhérents tous les jours de 7 h à 19 h. Les
clés sont remises contre signature du présent règlement.

**Article 2 — Parcelles.** Chaque foyer cultive une parcelle individuelle ; les parcelles
collectives sont entretenues ensemble lors des matinées communes du samedi.

**Article 3 — Outils.** Les outils du cabanon sont prêtés par la régie. Ils sont nettoyés
et rangés après usage ; toute casse est signalée.

**Article 4 — Eau.** L'eau de la citerne de récupération est utilisée en priorité. En
saison sèche, les arrosages suivent le planning affiché.

**Article 5 — Déchets verts.** Ils vont au composteur du jardin, jamais dans les bacs
d'ordures ménagères.

**Article 6 — Vie collective.** Une réunion des jardiniers a lieu chaque trimestre. Le
non-respect répété du règlement peut conduire au retrait de la parcelle, après un échange
avec l'animateur de la régie.
""",
    ),
    DemoDocument(
        regie="roubaix",
        author="member",
        title="Réemploi et encombrants : s'associer à une ressourcerie",
        summary=(
            "Trier les encombrants collectés dans les résidences pour que meubles et objets "
            "en bon état partent au réemploi plutôt qu'en déchetterie."
        ),
        themes=("transition-ecologique",),
        tags=("réemploi", "ressourcerie", "encombrants"),
        type="guide",
        body="""## Le constat

Chaque semaine, nos équipes enlèvent des encombrants déposés dans les locaux et au pied
des immeubles. Une bonne partie est en état d'être réutilisée : chaises, tables, étagères,
vélos, petits appareils. Les envoyer directement en déchetterie coûte cher et gaspille des
objets utiles.

## Le partenariat

La ressourcerie du territoire collecte, répare et revend à petit prix. Nous avons signé avec
elle une convention simple :

1. Nos équipes trient sur place, avec une grille de critères fournie par la ressourcerie.
2. Les objets réemployables sont stockés dans un local dédié, à l'abri de la pluie.
3. La ressourcerie passe les chercher une fois par semaine avec son camion.
4. Les tonnages détournés sont comptés et figurent dans le bilan annuel remis au bailleur.

## Les critères de tri

- Meubles : solides, complets, sans moisissure ni punaises de lit.
- Électroménager : complet, câble d'alimentation présent.
- Vélos : cadre intact, même sans roues.
- Textiles : propres et secs, en sacs fermés.

## Les effets

Les tonnages envoyés en déchetterie ont baissé d'un quart. Deux salariés de la régie ont
fait une immersion à la ressourcerie, et l'un d'eux y a été embauché en réparation de
petit électroménager.
""",
    ),
    DemoDocument(
        regie="paris-19",
        author="member",
        title="Gestes et postures en propreté urbaine : support de formation",
        summary=(
            "Un support pour une demi-journée de formation : porter, balayer, pousser un "
            "conteneur sans s'abîmer le dos, avec des exercices pratiques."
        ),
        themes=("proprete", "securite-prevention"),
        tags=("gestes et postures", "tms", "formation"),
        type="guide",
        body="""## Objectif de la séance

Les métiers de la propreté sollicitent le dos, les épaules et les poignets toute la
journée. À la fin de la demi-journée, chaque participant sait repérer les gestes à risque
de son poste et les remplacer par des gestes plus sûrs.

## Déroulé

1. **Tour de table** (20 min) : où avez-vous mal après une journée de travail ?
2. **Comprendre** (30 min) : le dos, les disques, pourquoi une charge portée loin du corps
   pèse beaucoup plus lourd.
3. **Atelier balayage** (40 min) : manche réglé à la bonne hauteur, dos droit, mouvement
   donné par les jambes plutôt que par les bras.
4. **Atelier manutention** (40 min) : soulever un sac en pliant les jambes, la charge
   contre soi ; pousser un conteneur plutôt que le tirer.
5. **Échauffement** (20 min) : cinq mouvements à faire chaque matin avant la prise de
   poste.
6. **Bilan** (20 min) : chacun choisit un geste à changer dès le lendemain.

## Les règles à retenir

- Rapprocher la charge du corps.
- Plier les jambes, pas le dos.
- Ne pas tourner le buste en portant : tourner avec les pieds.
- Utiliser les aides : chariots, diables, pinces de ramassage à manche long.

## Suivi

L'encadrant observe les équipes dans les semaines qui suivent et reprend les points
oubliés lors des quarts d'heure sécurité.
""",
    ),
    DemoDocument(
        regie="cayenne",
        author="member",
        title="Saison des pluies : entretien des abords et prévention des gîtes larvaires",
        summary=(
            "Pendant la saison des pluies, les équipes d'entretien des résidences repèrent et "
            "suppriment les eaux stagnantes où se développent les moustiques."
        ),
        themes=("espaces-verts", "securite-prevention"),
        tags=("moustiques", "gîtes larvaires", "saison des pluies"),
        type="fiche-pratique",
        body="""## Pourquoi c'est important

Les moustiques qui transmettent la dengue pondent dans de petites quantités d'eau claire et
stagnante. En saison des pluies, les abords des résidences en offrent partout : pneus,
soucoupes, gouttières bouchées, bâches, déchets. Les supprimer est le moyen le plus
efficace de limiter les épidémies.

## Le tour des abords, chaque semaine

- [ ] Vider et retourner les récipients abandonnés : seaux, bidons, pots de fleurs.
- [ ] Déboucher les gouttières et les caniveaux, retirer les feuilles des regards.
- [ ] Percer ou retirer les pneus usagés, qui gardent l'eau longtemps.
- [ ] Tendre les bâches pour qu'elles ne forment pas de poches d'eau.
- [ ] Signaler au bailleur les fuites et les flaques permanentes.
- [ ] Ramasser les déchets dans les haies et les terrains vagues.

## Se protéger

Les salariés portent des vêtements longs et clairs et utilisent un répulsif adapté. En cas
de fièvre brutale avec douleurs musculaires, ils consultent sans attendre et préviennent
l'encadrant.

## Avec les habitants

Les équipes profitent de leur passage pour rappeler les gestes simples aux habitants :
vider les soucoupes des plantes, couvrir les réserves d'eau, ne pas laisser de récipients
sur les balcons. Une affiche bilingue, préparée avec l'agence régionale de santé, est
posée dans chaque hall au début de la saison.
""",
    ),
    DemoDocument(
        regie="laxou",
        author="manager",
        title="Remise en peinture des parties communes : fiche chantier",
        summary=(
            "Préparer les supports, protéger, peindre et rendre un hall propre le soir même : "
            "la méthode de notre équipe de second œuvre, pensée pour des sites habités."
        ),
        themes=("batiment", "insertion"),
        tags=("peinture", "second œuvre", "parties communes"),
        type="procedure",
        body="""## Avant le chantier

- Prévenir les habitants une semaine à l'avance par une affiche dans le hall : dates,
  horaires, consignes (ne pas toucher les murs frais, passage conservé).
- Vérifier avec le bailleur l'absence d'amiante et de plomb dans les peintures anciennes :
  le diagnostic doit être fourni avant toute intervention sur les supports.
- Préparer le matériel la veille : bâches, rubans de masquage, rouleaux, brosses,
  escabeaux avec plateforme, peinture acrylique à faible teneur en solvants.

## Déroulé d'une journée

1. **Protéger** : bâcher les sols, masquer les boîtes aux lettres, les interrupteurs et les
   huisseries.
2. **Préparer les supports** : lessiver, gratter les parties écaillées, reboucher les
   trous et les fissures, poncer les reprises. C'est l'étape la plus longue et celle qui
   fait la qualité du résultat.
3. **Peindre** : une sous-couche sur les reprises, puis deux couches croisées, en
   commençant par les plafonds et en finissant par les plinthes.
4. **Nettoyer** : retirer les protections, laver les outils à l'eau, évacuer les pots vides
   en déchetterie professionnelle.

## Sur un site habité

Le passage reste libre en permanence, les escabeaux ne restent jamais sans surveillance et
les zones fraîchement peintes sont balisées. Le soir, le hall doit être propre et
utilisable.

## Un chantier formateur

Chaque salarié passe par toutes les étapes, de la préparation à la finition. L'encadrant
note les acquis sur la fiche de compétences du parcours : un atout pour les candidatures
dans les entreprises de peinture du territoire.
""",
    ),
)
