"""Word lists the scrubber's name heuristics use: common UK first names and capitalised words that are not names.

Declarations only. The first names are common across generations and communities in England (ONS baby
names of several decades, South Asian, Polish, Black British and Irish names, everyday short forms),
ASCII-folded. Names that are also everyday words or street and place names (Will, May, Mark, Rose,
Holly, Victoria, Stanley, ...) are left out on purpose: a capitalised "May" or "Holly Lane" is more
often not a person. A force can pass its own lists to `transforms.scrub.Scrubber`.
"""

from __future__ import annotations

from powerbi_dataset.codes import LPTS


def words(block: str) -> frozenset[str]:
    """The whitespace-separated words of a block of text (long lists read better as prose)."""
    return frozenset(block.split())


FIRST_NAMES: frozenset[str] = words(
    """
    Aaron Abbie Abby Abdul Abdullah Abigail Adam Adebayo Adeel Adele Adil Adrian Agnieszka Ahmad Ahmed
    Aidan Aiden Aileen Aimee Aisha Alan Alana Alastair Albert Alec Aled Alesha Alex Alexa Alexander
    Alexandra Alexis Alfie Ali Alice Alicia Alisha Alison Alistair Allan Alysha Amal Amanda Amandeep
    Amar Amarjit Amelia Amir Amit Amna Amy Anas Andrea Andreea Andrew Andy Aneta Angela Angus Anil
    Anita Anjali Ann Anna Anne Annette Annie Anthony Anton Antonia Anwar Archie Arjun Arlo Arthur Arun
    Arran Asad Asha Ashleigh Ashley Ashok Ashton Asif Asim Aslam Ayesha Azra Babajide Balbir Balvinder
    Barbara Barry Bartosz Baz Beata Becky Belinda Ben Benjamin Bernadette Bernard Beth Bethany Betty Bev
    Beverley Bilal Billy Blessing Bobby Bogdan Brandon Brenda Brendan Brian Bridget Brooke Bryan Caitlin
    Callum Calvin Cameron Camilla Carl Carla Carly Carol Caroline Carolyn Cassie Catherine Cathy Cerys
    Chanelle Chantelle Charlene Charlie Charlotte Chelsie Cheryl Chidi Chloe Chris Christian Christina
    Christine Christopher Chukwuemeka Ciara Ciaran Claire Clare Colin Connor Conor Corey Craig Curtis
    Damian Damien Dan Daniel Daniela Danielle Danny Dariusz Darren Darryl Dave David Dawid Deborah Debbie
    Declan Deepak Deirdre Demi Denise Dennis Derek Desmond Dev Devon Dexter Dhruv Diana Diane Dilip Dinesh
    Dominic Dominika Donna Doreen Doris Dorothy Dougie Douglas Duncan Dylan Ebony Eddie Edith Edward
    Eileen Elaine Eleanor Elena Eli Elijah Elise Elizabeth Ella Ellie Elliot Elliott Elsie Emeka Emily
    Emma Emmanuel Eric Erin Esther Ethan Eve Evelyn Evie Ewa Ewan Faisal Farah Farhan Farida Fatima Fiona
    Francesca Francis Freddie Frederick Freya Funmilayo Gareth Garry Gary Gaz Gavin Gemma Geoffrey George
    Georgina Geraldine Gerry Gillian Gina Glenn Gordon Graham Grant Grzegorz Gurdeep Gurmeet Gurpreet
    Habib Hamza Hannah Harjit Harold Harpreet Harriet Harrison Harry Harvey Hassan Hayden Hayley Heidi
    Helen Henry Hollie Howard Hugh Hussain Ian Ibrahim Imogen Imran Isaac Isabel Isabella Isabelle Isha
    Ishaan Isla Ismail Ivan Jack Jackie Jacob Jacqueline Jade Jagdeep Jake Jakub Jamal James Jamie Jan
    Jane Janet Janice Jasmin Jason Jaspreet Jasvinder Jaswinder Jay Jayden Jayne Jean Jeff Jeffrey Jen
    Jenna Jennifer Jenny Jeremy Jessica Jill Jim Jimmy Joan Joanna Joanne Jodie Joe Joel Joey John Johnny
    Jolanta Jon Jonathan Jordan Joseph Josh Joshua Joyce Judith Judy Julia Julian Julie Justin Kabir
    Kamal Kamil Kamila Karen Karina Karl Kaseem Kasia Katarzyna Kate Katherine Kathleen Kathryn Katie Katy
    Kayleigh Keeley Keith Kelly Kelvin Ken Kenneth Kerry Kev Kevin Khadija Kieran Kim Kimberley Kirsty Kofi
    Krzysztof Kuldip Kwame Kyle Laila Lakhbir Lara Laura Lauren Lawrence Layla Leah Leanne Lee Leon Leonard
    Lesley Leslie Lewis Liam Lillian Linda Lindsay Lindsey Lisa Liz Lloyd Logan Lorna Lorraine Louis Louise
    Luca Lucas Lucy Luke Lukasz Lydia Lynda Lynn Lynne Maciej Madeleine Madison Magdalena Mahmood Maisie
    Majid Malcolm Malgorzata Mandy Manjit Manpreet Marcin Marcus Margaret Maria Marian Marie Marilyn Marion
    Marta Martin Martyna Mary Maryam Mason Mateusz Matilda Matt Matthew Maureen Maxine Megan Mehmet
    Melanie Melissa Michael Michaela Michal Michelle Mick Mike Mildred Millie Mitchell Mohamed Mohammad
    Mohammed Mohsin Molly Monika Muhammad Mustafa Nadia Naomi Narinder Nasir Natalia Natalie Natasha Nathan
    Navdeep Naveed Neil Nia Niall Nicholas Nick Nicky Nicola Nicole Nigel Nikita Nikki Nisha Noah Noor
    Norman Obinna Oliver Olivia Oliwia Ollie Omar Oscar Owen Pamela Paramjit Parveen Patricia Patrick Paul
    Paula Pauline Pawel Peter Phil Philip Phoebe Piotr Pooja Priya Priyanka Rachel Rahul Raj Rajesh Rajinder
    Rakesh Ravi Ravinder Raymond Rebecca Reece Rehana Reuben Rhys Rhiannon Richard Ricky Rikki Riley Rita
    Rob Robert Robbie Robin Robyn Rohan Ronald Ronnie Rory Rosemary Ross Roy Ruby Russell Ruth Ryan Saba
    Sabrina Sadia Saeed Sahil Saima Sajid Sally Salma Sam Samantha Sameer Samina Samir Samuel Sandeep
    Sandra Sanjay Sara Sarah Sarbjit Scarlett Scott Sean Sebastian Shabana Shahid Shakeel Shane Shannon
    Shareen Sharon Shaun Shauna Sheila Shirley Shobha Siobhan Simon Simone Sinead Sita Sonia Sophia Sophie
    Stacey Stephanie Stephen Steve Steven Stewart Stuart Sukhwinder Sunil Surinder Susan Suzanne Sylvia
    Szymon Tamara Tanya Tara Tariq Tasha Ted Teresa Terry Theo Theresa Thomas Tim Timothy Tina Toby Todd
    Tom Tomasz Tommy Tony Tracey Tracy Trevor Tyler Tyrone Usman Valerie Vanessa Vicky Vijay Vikram Vince
    Vincent Vinod Wanda Waqar Warren Wayne Wendy Wesley Wiktoria Wojciech Yasmin Yusuf Zach Zachary Zain
    Zainab Zara Zoe Zofia Zuzanna
    """
)

# Capitalised words and fixed names the name heuristics must never take for a person: the force area's
# places (LPT names and bases from the model, towns, villages and districts), organisations, days,
# months, festivals and words that start many capitalised phrases in police notes.
FORCE_AREA_PLACES: frozenset[str] = frozenset(
    {word for _code, name, base, authority in LPTS for word in f"{name} {base} {authority}".split()}
    | words(
        """
        Abbey Hulton Alrewas Alton Amington Armitage Ashbourne Audley Baddeley Barlaston Barton Basford
        Baswich Belgrave Bentilee Biddulph Birches Blurton Blythe Brereton Brewood Bucknall Burntwood
        Burslem Burton Cannock Chadsmoor Cheadle Cheddleton Chesterton Cheslyn Hay Codsall Cobridge
        Coton Dosthill Eccleshall Endon Etruria Fazeley Fenton Glascote Gnosall Hanley Hartshill Heath
        Hayes Hednesford Highfields Horninglow Huntington Ipstones Keele Kettlebrook Kidsgrove Kingsley
        Kinver Knutton Leek Lichfield Longton Madeley Meir Milton Moorlands Newcastle Norton Canes Penkhull
        Penkridge Perton Porthill Rocester Rugeley Shelton Shenstone Silverdale Smallthorne Sneyd Stafford
        Staffordshire Stoke Trent Stone Stretton Talke Tamworth Trentham Tunstall Tutbury Uttoxeter Werrington
        Westlands Whittington Wilnecote Winshill Wolstanton Wombourne Wyrley Clayton Bank Chase Lyme
        Birmingham Derby Manchester Wolverhampton Walsall Crewe Stockport Telford Nottingham Liverpool
        London England Wales Scotland Ireland Britain Midlands
        """
    )
)

NOT_NAMES: frozenset[str] = FORCE_AREA_PLACES | words(
    """
    Police Policing Constabulary Council Councils County Borough Parish Town City Village Lines Anti Social
    Behaviour Behavior Neighbourhood Neighborhood Watch Smart Alert Community Communities Speed Safety
    Partnership Team Teams School Schools Primary Academy College University Church Chapel Mosque Gurdwara
    Temple Centre Center Hall Library Station Hospital Surgery Park Estate Market Square Street Road Lane
    Avenue Close Drive Way Crescent Grove Court Place Terrace Gardens Green Hill Common Brook River Canal
    Bridge Bus Train Railway Services Service Support Victim Victims Trust Housing Association Residents
    Resident Group Forum Meeting Staff Parents Pupils Students Members Officers Neighbours Shopkeepers
    Security Management Business Businesses Shop Shops Store Pub Club Youth Fire Rescue Ambulance NHS
    RSPCA Highways Network Rail National Royal Mail Post Office Crimestoppers Shopwatch Pubwatch Farmwatch
    Speedwatch Tesco Asda Aldi Lidl Morrisons Sainsbury Sainsburys Greggs Boots Spar Iceland Amazon
    Facebook WhatsApp Instagram Snapchat TikTok Twitter Google Apple Microsoft Ring Christmas Easter
    Halloween Bonfire Diwali Eid Ramadan Vaisakhi New Year Monday Tuesday Wednesday Thursday Friday
    Saturday Sunday January February March April June July August September October November December
    North South East West Upper Lower Old Great Little High Chief Head Deputy Local Specials Special
    Inspector Sergeant Constable Councillor Mayor Parliament Member Government Department Home Office
    Crown Court Magistrates Prison Probation Trading Standards Environmental Health Agency Highways
    Ofsted Age Concern Citizens Advice Samaritans Mind Women Aid Refuge Action Scheme Project Programme
    Operation Op Safer Stronger Family Families Children Child Young People Adult Adults Older Elderly
    Catholic Methodist Baptist Anglican Muslim Sikh Hindu Jewish Christian Polish Asian Black White
    British English Irish Scottish Welsh Romanian Roma Traveller Travellers Gypsy Year Years Week Weeks
    Day Days Month Months Morning Afternoon Evening Night Weekend Covid Universal Credit Amazon Prime
    """
)

# Words that, followed by capitalised words, usually introduce a person ("spoke to", "raised by").
NAME_TRIGGERS: tuple[str, ...] = (
    "my name is",
    "her name is",
    "his name is",
    "name is",
    "named",
    "called",
    "known as",
    "aka",
    "spoke to",
    "spoke with",
    "speaking to",
    "speaking with",
    "talked to",
    "talked with",
    "raised by",
    "reported by",
    "report from",
    "complaint from",
    "call from",
    "email from",
    "message from",
    "contact",
    "contacted",
    "ask for",
    "asked for",
    "on behalf of",
    "resident",
    "neighbour",
    "neighbor",
    "victim",
    "witness",
    "informant",
    "caller",
    "complainant",
    "suspect",
    "offender",
    "husband",
    "wife",
    "partner",
    "son",
    "daughter",
    "mum",
    "mother",
    "dad",
    "father",
    "brother",
    "sister",
    "grandson",
    "granddaughter",
    "nephew",
    "niece",
    "friend",
    "landlord",
    "landlady",
    "tenant",
)

# Titles and ranks that come before a surname ("Mrs Patel", "PC Bourne", "Cllr Degg").
TITLES: tuple[str, ...] = (
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "mister",
    "dr",
    "prof",
    "rev",
    "revd",
    "sir",
    "dame",
    "cllr",
    "councillor",
    "pc",
    "pcso",
    "psi",
    "dc",
    "ds",
    "di",
    "dci",
    "sgt",
    "sergeant",
    "insp",
    "inspector",
    "ch insp",
    "supt",
    "officer",
)

# Street suffixes after a house number ("14 Meadow Close"). Abbreviations are matched with or without
# a full stop.
STREET_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        words(
            "road rd street st lane ln close cl avenue ave drive dr way crescent cres grove gr court ct place pl "
            "terrace tce gardens gdns walk mews view rise square sq hill row park green croft fold bank parade "
            "meadow meadows boulevard chase gate vale wharf yard villas cottages approach heights hollow"
        )
    )
)

# Suffixes accepted after an all-lowercase street name ("14 church lane"); common nouns such as street,
# way, drive, close, park or green are left out because "5 cars street racing" or "10 mins drive" are
# not addresses.
LOWERCASE_STREET_SUFFIXES: tuple[str, ...] = (
    "road",
    "rd",
    "lane",
    "avenue",
    "ave",
    "crescent",
    "cres",
    "grove",
    "terrace",
    "mews",
)
